"""`apps`, `tokens`, `ingest-keys`, `admin-keys` and `dashboard-link`: issuing and withdrawing
credentials."""

from __future__ import annotations

import click
from rich.table import Table

from engagement_api.cli.context import CliContext, with_defaults
from engagement_api.contract.ids import IdError, parse_id
from engagement_api.service import credentials


@click.group()
def apps() -> None:
    """Apps (consumer key and secret, bearer token) that may call the read API."""


@apps.command("create")
@click.argument("name")
@click.option("--rate-limit", type=int, default=None, help="Requests per endpoint and minute.")
@with_defaults
def apps_create(ctx: CliContext, name: str, rate_limit: int | None) -> None:
    """Create an app; prints its consumer key, consumer secret and bearer token (shown once)."""
    limit = rate_limit if rate_limit is not None else ctx.settings.default_rate_limit
    with ctx.store() as store:
        issued = credentials.create_app(store, ctx.settings.clock, name, limit)
    data = {
        "name": issued.name,
        "consumer_key": issued.consumer_key,
        "consumer_secret": issued.consumer_secret,
        "bearer_token": issued.bearer_token,
        "rate_limit": issued.rate_limit,
    }
    human = "\n".join(f"{k}: {v}" for k, v in data.items())
    ctx.emit(data, human + "\n(the secret and the bearer token are not shown again)")


@apps.command("list")
@with_defaults
def apps_list(ctx: CliContext) -> None:
    """List apps (never their secrets)."""
    with ctx.store() as store:
        found = store.list_apps()
    rows = [
        {
            "consumer_key": a.consumer_key,
            "name": a.name,
            "enabled": a.enabled,
            "rate_limit": a.rate_limit,
            "created_at": a.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for a in found
    ]
    table = Table()
    for column in ("consumer_key", "name", "enabled", "rate_limit", "created_at"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    ctx.emit(rows, table)


def _set_enabled(ctx: CliContext, consumer_key: str, enabled: bool) -> None:
    with ctx.store() as store:
        if not store.set_app_enabled(consumer_key, enabled):
            raise credentials.AdminError(f"no app with consumer key {consumer_key!r}")
    state = "enabled" if enabled else "disabled"
    ctx.emit({"consumer_key": consumer_key, "enabled": enabled}, f"{consumer_key}: {state}")


@apps.command("disable")
@click.argument("consumer_key")
@with_defaults
def apps_disable(ctx: CliContext, consumer_key: str) -> None:
    """Disable an app: its requests answer 403 "Your application id is not authorized."."""
    _set_enabled(ctx, consumer_key, False)


@apps.command("enable")
@click.argument("consumer_key")
@with_defaults
def apps_enable(ctx: CliContext, consumer_key: str) -> None:
    """Enable an app again."""
    _set_enabled(ctx, consumer_key, True)


@apps.command("set-rate-limit")
@click.argument("consumer_key")
@click.argument("rate_limit", type=int)
@with_defaults
def apps_set_rate_limit(ctx: CliContext, consumer_key: str, rate_limit: int) -> None:
    """Set an app's limit: requests per endpoint and minute (takes effect at once)."""
    if rate_limit <= 0:
        raise credentials.AdminError("rate limit must be a positive integer")
    with ctx.store() as store:
        if not store.set_rate_limit(consumer_key, rate_limit):
            raise credentials.AdminError(f"no app with consumer key {consumer_key!r}")
    data = {"consumer_key": consumer_key, "rate_limit": rate_limit}
    ctx.emit(data, f"{consumer_key}: {rate_limit} requests per endpoint and minute")


@click.group()
def tokens() -> None:
    """OAuth 1.0a access tokens: an app acting for one user."""


def _user_id(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    try:
        return parse_id(value)
    except IdError as exc:
        raise click.BadParameter(f"{value!r} {exc}") from None


@tokens.command("create")
@click.option("--app", "consumer_key", required=True, help="The app's consumer key.")
@click.option("--user", "user_id", required=True, callback=_user_id, help="The user's ID.")
@with_defaults
def tokens_create(ctx: CliContext, consumer_key: str, user_id: int) -> None:
    """Create an access token and secret for USER acting through APP."""
    with ctx.store() as store:
        token = credentials.create_token(store, ctx.settings.clock, consumer_key, user_id)
    data = {
        "access_token": token.token,
        "access_token_secret": token.secret,
        "consumer_key": token.consumer_key,
        "user_id": str(token.user_id),
    }
    ctx.emit(data, "\n".join(f"{k}: {v}" for k, v in data.items()))


@tokens.command("revoke")
@click.argument("access_token")
@with_defaults
def tokens_revoke(ctx: CliContext, access_token: str) -> None:
    """Revoke an access token: requests signed with it answer 401."""
    with ctx.store() as store:
        if not store.revoke_token(access_token):
            raise credentials.AdminError("no such access token")
    ctx.emit({"access_token": access_token, "revoked": True}, "revoked")


@click.group("ingest-keys")
def ingest_keys() -> None:
    """Keys for the ingest endpoints (distinct from API credentials)."""


@ingest_keys.command("create")
@with_defaults
def ingest_keys_create(ctx: CliContext) -> None:
    """Create an ingest key (shown once; stored hashed)."""
    with ctx.store() as store:
        key = credentials.create_ingest_key(store, ctx.settings.clock)
    ctx.emit({"ingest_key": key}, f"ingest_key: {key}\n(not shown again)")


@click.group("admin-keys")
def admin_keys() -> None:
    """Keys that sign an operator in to the dashboard (every user, Post, ingest, usage)."""


@admin_keys.command("create")
@with_defaults
def admin_keys_create(ctx: CliContext) -> None:
    """Create an admin key (shown once; stored hashed)."""
    with ctx.store() as store:
        key = credentials.create_admin_key(store, ctx.settings.clock)
    ctx.emit({"admin_key": key}, f"admin_key: {key}\n(not shown again)")


@admin_keys.command("revoke")
@click.argument("admin_key")
@with_defaults
def admin_keys_revoke(ctx: CliContext, admin_key: str) -> None:
    """Revoke an admin key: the dashboard sessions signed in with it end at once."""
    with ctx.store() as store:
        credentials.revoke_admin_key(store, admin_key)
    ctx.emit({"revoked": True}, "revoked (its dashboard sessions are ended)")


@click.command("dashboard-link")
@click.option("--user", "user_id", required=True, callback=_user_id, help="The user's ID.")
@click.option(
    "--base-url",
    default=None,
    help="Where the server is reached (default: ENGAGEMENT_API_PUBLIC_URL).",
)
@with_defaults
def dashboard_link(ctx: CliContext, user_id: int, base_url: str | None) -> None:
    """A one-time link that signs USER in to the dashboard to see their own Posts."""
    settings = ctx.settings
    base = base_url or settings.public_url
    with ctx.store() as store:
        issued = credentials.create_dashboard_link(
            store, settings.clock, user_id, base, settings.dashboard_link_ttl
        )
    expires = issued.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    data = {"url": issued.url, "user_id": str(issued.user_id), "expires_at": expires}
    ctx.emit(data, f"{issued.url}\n(usable once, until {expires})")
