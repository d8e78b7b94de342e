"""`engagement-api`: the console script."""

from __future__ import annotations

import click

from engagement_api import __version__
from engagement_api.cli import credentials, demo, load, query, server, standin, usage
from engagement_api.cli.context import CliContext, database_option, json_option


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="engagement-api")
@database_option
@json_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    """A self-hostable Engagement API server, with its own batch ingest."""
    ctx.ensure_object(CliContext)


cli.add_command(credentials.apps)
cli.add_command(credentials.tokens)
cli.add_command(credentials.ingest_keys)
cli.add_command(credentials.admin_keys)
cli.add_command(credentials.dashboard_link)
cli.add_command(demo.demo)
cli.add_command(demo.generate)
cli.add_command(load.load)
cli.add_command(server.migrate)
cli.add_command(server.serve)
cli.add_command(server.prune)
cli.add_command(usage.usage)
cli.add_command(query.query)
cli.add_command(standin.standin)


def main() -> None:
    cli(obj=CliContext(database_url=None))
