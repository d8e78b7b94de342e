"""`usage`: the distinct users an app acted for in a calendar month (spec §8), and who they are."""

from __future__ import annotations

import click

from engagement_api.cli.context import CliContext, with_defaults
from engagement_api.contract.usage import month_of, parse_month
from engagement_api.service import credentials
from engagement_api.service.metering import Meter


@click.command("usage")
@click.option("--app", "consumer_key", required=True, help="The app's consumer key.")
@click.option("--month", default=None, metavar="YYYY-MM", help="UTC month (default: this one).")
@with_defaults
def usage(ctx: CliContext, consumer_key: str, month: str | None) -> None:
    """Distinct users whose access token signed a 200 through APP asking for a Post they own,
    listed by ID with their @handles."""
    month = month_of(ctx.settings.clock.now()) if month is None else parse_month(month)
    with ctx.store() as store:
        if store.get_app(consumer_key) is None:
            raise credentials.AdminError(f"no app with consumer key {consumer_key!r}")
        counted = Meter(store, store).counted(consumer_key, month)
    data = {
        "app": consumer_key,
        "month": month,
        "users": len(counted),
        "counted": [{"id": str(i), "handle": handle} for i, handle in counted],
    }
    lines = [f"{consumer_key} {month}: {len(counted)} users"]
    lines += [f"  {i} " + ("(not in the catalog)" if h is None else f"@{h}") for i, h in counted]
    ctx.emit(data, "\n".join(lines))
