"""The dashboard's pages and their CSV exports (the same URL with ``.csv``).

Every count comes from :class:`~engagement_api.service.dashboard.DashboardReader`, which asks
the public API's read road; the operator's pages (users, ingest, usage) read the store's
narrow listing calls.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engagement_api.contract.errors import BadRequest, NotFound
from engagement_api.contract.ids import IdError, parse_id
from engagement_api.contract.metrics import AGE_LIMIT_DAYS_90, AGE_LIMIT_DAYS_1800
from engagement_api.contract.usage import month_of
from engagement_api.dashboard.charts import bar_chart
from engagement_api.dashboard.guard import Context, guarded
from engagement_api.dashboard.render import HEADERS, csv_response, page
from engagement_api.domain import User
from engagement_api.service import credentials
from engagement_api.service.dashboard import (
    MAX_RANGE_DAYS,
    NO_SUCH_POST,
    PUBLIC_METRICS,
    RANKABLE,
    Overview,
    Series,
    check_metric,
    parse_range,
)

#: Posts in the overview's table (the CSV has them all).
TOP_POSTS = 50
USERS_PER_PAGE = 50
RECENT_BATCHES = 20
USAGE_MONTHS = 6
OVERVIEW_DAYS = 90  # the overview's default range: Posts whose impressions the API still shows
POST_DAYS = 28  # a Post page's default range of days
OVERVIEW_COLUMNS = (
    "post_id",
    "created_at",
    "impressions",
    "engagements",
    "engagement_rate",
    *PUBLIC_METRICS,
)


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the overview ---------------------------------------------------------------------------


def _viewed_user(ctx: Context) -> User | None:
    """The owner themself; for an operator the user of ``?user=`` (ID or handle), or None."""
    reader = ctx.state.reader
    session = ctx.who.session
    if session.user_id is not None:
        uid = session.user_id
        return reader.catalog.get_users([uid]).get(uid, User(uid, str(uid)))
    ref = (ctx.query("user") or "").strip()
    if not ref:
        return None
    found = reader.find_user(ref)
    if found is None:
        raise NotFound(f"No such user: {ref}")
    return found


def _overview(ctx: Context) -> tuple[User | None, Overview | None, date, date, str]:
    reader = ctx.state.reader
    start, end = parse_range(ctx.query("start"), ctx.query("end"), reader.now, OVERVIEW_DAYS, None)
    metric = check_metric(ctx.query("metric") or "engagements")
    user = _viewed_user(ctx)
    if user is None:
        return None, None, start, end, metric
    return user, reader.overview(user, start, end, metric), start, end, metric


def overview(ctx: Context) -> Response:
    user, found, start, end, metric = _overview(ctx)
    query = {"start": start.isoformat(), "end": end.isoformat(), "metric": metric}
    if user is not None and ctx.who.operator:
        query["user"] = str(user.id)
    users = ctx.state.store.list_users("", USERS_PER_PAGE) if ctx.who.operator and not user else []
    context = {
        **ctx.base(),
        "user": user,
        "overview": found,
        "rows": found.posts[:TOP_POSTS] if found else [],
        "start": start.isoformat(),
        "end": end.isoformat(),
        "metric": metric,
        "metrics": RANKABLE,
        "public_metrics": PUBLIC_METRICS,
        "users": users,
        "csv_url": "/dashboard.csv?" + urlencode(query),
        "top": TOP_POSTS,
    }
    return page("overview.html", context)


def overview_csv(ctx: Context) -> Response:
    user, found, start, end, _ = _overview(ctx)
    if user is None or found is None:
        raise BadRequest("user: required (an ID or a handle)")
    rows = []
    for post in found.posts:
        rate = post.engagement_rate
        counts = [
            post.counts.get(name) for name in OVERVIEW_COLUMNS[2:] if name != "engagement_rate"
        ]
        cells: list[Any] = ["" if c is None else c for c in counts]
        cells.insert(2, "" if rate is None else f"{rate:.6f}")
        rows.append([str(post.post_id), _timestamp(post.created_at), *cells])
    name = f"posts-{user.id}-{start.isoformat()}-{end.isoformat()}.csv"
    return csv_response(_csv(OVERVIEW_COLUMNS, rows), name)


# -- one Post -------------------------------------------------------------------------------


def _post_id(ctx: Context) -> int:
    try:
        return parse_id(ctx.request.path_params["post_id"])
    except IdError:
        raise NotFound(NO_SUCH_POST) from None


def _viewer(ctx: Context) -> int | None:
    """Whose Posts the session may see: an owner's own only (None: an operator, any)."""
    return None if ctx.who.operator else ctx.who.session.user_id


def _table(series: Series) -> tuple[list[str], list[list[int]]]:
    names = ["impressions", "engagements", *(name for name, _ in series.stacked())]
    stacked = dict(series.stacked())
    columns = [series.values.get(n) or stacked[n] for n in names]
    return names, [[col[i] for col in columns] for i in range(len(series.buckets))]


def _charts(prefix: str, label: str, series: Series) -> dict[str, Any]:
    names, rows = _table(series)
    return {
        "impressions": bar_chart(
            f"{prefix}-imp",
            f"Impressions, {label}",
            series.buckets,
            [("impressions", series.values.get("impressions", []))],
        ),
        "engagements": bar_chart(
            f"{prefix}-eng", f"Engagements by type, {label}", series.buckets, series.stacked()
        ),
        "columns": names,
        "rows": list(zip(series.buckets, rows, strict=True)),
    }


def _age_notes(created_at: datetime, now: datetime) -> list[str]:
    age = now - created_at
    notes = []
    if age > timedelta(days=AGE_LIMIT_DAYS_90):
        notes.append(
            f"This Post is over {AGE_LIMIT_DAYS_90} days old: the API answers no impressions "
            "or engagements for it on /totals (lifetime), shown as \u2014."
        )
    if age > timedelta(days=AGE_LIMIT_DAYS_1800):
        notes.append(
            f"This Post is over {AGE_LIMIT_DAYS_1800} days old: the API answers no video views "
            "for it."
        )
    return notes


def post(ctx: Context) -> Response:
    reader = ctx.state.reader
    facts = reader.post_facts(_post_id(ctx), _viewer(ctx))
    start, end = parse_range(
        ctx.query("start"), ctx.query("end"), reader.now, POST_DAYS, MAX_RANGE_DAYS
    )
    found = reader.post(facts, start, end)
    query = urlencode({"start": start.isoformat(), "end": end.isoformat()})
    context = {
        **ctx.base(),
        "facts": facts,
        "created_at": _timestamp(facts.created_at),
        "post": found,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "max_days": MAX_RANGE_DAYS,
        "age_notes": _age_notes(facts.created_at, reader.now),
        "hours": _charts("h", "last 28 hours (UTC)", found.hours) if found.hours else None,
        "days": _charts("d", f"{start} to {end} (UTC)", found.days) if found.days else None,
        "totals": list(found.lifetime.counts.items()) if found.lifetime else [],
        "rate": found.lifetime.engagement_rate if found.lifetime else None,
        "csv_url": f"/dashboard/posts/{facts.id}.csv?{query}",
    }
    return page("post.html", context)


def post_csv(ctx: Context) -> Response:
    reader = ctx.state.reader
    facts = reader.post_facts(_post_id(ctx), _viewer(ctx))
    start, end = parse_range(
        ctx.query("start"), ctx.query("end"), reader.now, POST_DAYS, MAX_RANGE_DAYS
    )
    if not facts.available:
        raise BadRequest("Tweet ID(s) are unavailable")
    rows = reader.hourly_rows(facts, start, end)
    name = f"post-{facts.id}-{start.isoformat()}-{end.isoformat()}.csv"
    return csv_response(_csv(("post_id", "metric", "day", "hour", "count"), rows), name)


# -- the operator's pages -------------------------------------------------------------------


def users(ctx: Context) -> Response:
    after = (ctx.query("after") or "").lower()
    found = ctx.state.store.list_users(after, USERS_PER_PAGE + 1)
    more = len(found) > USERS_PER_PAGE
    found = found[:USERS_PER_PAGE]
    following = urlencode({"after": found[-1].handle.lower()}) if more else None
    return page("users.html", {**ctx.base(), "users": found, "next": following})


def _user(ctx: Context) -> User:
    try:
        uid = parse_id(ctx.request.path_params["user_id"])
    except IdError:
        raise NotFound("No such user") from None
    found = ctx.state.store.get_users([uid]).get(uid)
    if found is None:
        raise NotFound("No such user")
    return found


def _user_page(ctx: Context, link: credentials.IssuedLink | None) -> Response:
    user = _user(ctx)
    context = {
        **ctx.base(),
        "user": user,
        "posts": len(ctx.state.store.posts_by_author(user.id)),
        "link": link,
        "link_expires": _timestamp(link.expires_at) if link else None,
        "ttl_minutes": ctx.state.settings.dashboard_link_ttl // 60,
    }
    return page("user.html", context)


def user(ctx: Context) -> Response:
    return _user_page(ctx, None)


def user_link(ctx: Context) -> Response:
    target = _user(ctx)
    settings = ctx.state.settings
    issued = credentials.create_dashboard_link(
        ctx.state.store, settings.clock, target.id, settings.public_url, settings.dashboard_link_ttl
    )
    return _user_page(ctx, issued)


def _minutes(ctx: Context) -> int:
    raw = ctx.query("minutes") or "60"
    if not raw.isdigit() or not 1 <= int(raw) <= 1440:
        raise BadRequest(f"minutes: must be a whole number from 1 to 1440, not {raw!r}")
    return int(raw)


MinuteRow = tuple[str, int, int, int, int]


def _ingest_minutes(ctx: Context) -> tuple[int, list[MinuteRow]]:
    minutes = _minutes(ctx)
    now = ctx.state.settings.clock.now()
    until = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    since = until - timedelta(minutes=minutes)
    found = {m.minute: m for m in ctx.state.store.ingest_minutes(since, until)}
    first = int(since.timestamp()) // 60
    rows: list[MinuteRow] = []
    for minute in range(first, first + minutes):
        m = found.get(minute)
        label = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%MZ")
        if m is None:
            rows.append((label, 0, 0, 0, 0))
        else:
            rows.append((label, m.batches, m.events, m.rejected_batches, m.rejected_lines))
    return minutes, rows


def ingest(ctx: Context) -> Response:
    minutes, rows = _ingest_minutes(ctx)
    labels = [r[0] for r in rows]
    context = {
        **ctx.base(),
        "minutes": minutes,
        "rows": [r for r in rows if any(r[1:])],
        "totals": [sum(int(r[i]) for r in rows) for i in range(1, 5)],
        "events_chart": bar_chart(
            "ing-ev",
            f"Events applied per minute, last {minutes} minutes",
            labels,
            [("events", [r[2] for r in rows])],
        ),
        "batches_chart": bar_chart(
            "ing-b",
            f"Batches per minute, last {minutes} minutes",
            labels,
            [("applied", [r[1] for r in rows]), ("rejected", [r[3] for r in rows])],
        ),
        "batches": ctx.state.store.recent_batches(RECENT_BATCHES),
        "stamp": _timestamp,
        "csv_url": f"/dashboard/ingest.csv?minutes={minutes}",
    }
    return page("ingest.html", context)


def ingest_csv(ctx: Context) -> Response:
    _, rows = _ingest_minutes(ctx)
    header = ("minute", "batches", "events", "rejected_batches", "rejected_lines")
    return csv_response(_csv(header, rows), "ingest.csv")


def _months(now: datetime) -> list[str]:
    year, month = now.year, now.month
    found = []
    for _ in range(USAGE_MONTHS):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


def _usage(ctx: Context) -> tuple[list[str], list[tuple[str, str, list[int]]]]:
    months = _months(ctx.state.settings.clock.now())
    store = ctx.state.store
    apps = store.list_apps()
    rows = [
        (a.consumer_key, a.name, [store.usage(a.consumer_key, m) for m in months]) for a in apps
    ]
    return months, rows


def usage(ctx: Context) -> Response:
    months, rows = _usage(ctx)
    context = {
        **ctx.base(),
        "months": months,
        "rows": rows,
        "current": month_of(ctx.state.settings.clock.now()),
    }
    return page("usage.html", context)


def usage_csv(ctx: Context) -> Response:
    months, rows = _usage(ctx)
    lines = [
        (key, name, month, n)
        for key, name, counts in rows
        for month, n in zip(months, counts, strict=True)
    ]
    return csv_response(_csv(("consumer_key", "app", "month", "users"), lines), "usage.csv")


def root(_request: object) -> Response:
    return RedirectResponse("/dashboard", 307, headers=HEADERS)


OPERATOR = {"operator": True}
EXPORT = {"operator": True, "export": True}

routes = [
    Route("/", root, methods=["GET"]),
    Route("/dashboard", guarded(overview), methods=["GET"]),
    Route("/dashboard.csv", guarded(overview_csv, export=True), methods=["GET"]),
    Route("/dashboard/posts/{post_id}.csv", guarded(post_csv, export=True), methods=["GET"]),
    Route("/dashboard/posts/{post_id}", guarded(post), methods=["GET"]),
    Route("/dashboard/users", guarded(users, operator=True), methods=["GET"]),
    Route("/dashboard/users/{user_id}", guarded(user, operator=True), methods=["GET"]),
    Route("/dashboard/users/{user_id}/link", guarded(user_link, operator=True), methods=["POST"]),
    Route("/dashboard/ingest", guarded(ingest, operator=True), methods=["GET"]),
    Route("/dashboard/ingest.csv", guarded(ingest_csv, **EXPORT), methods=["GET"]),
    Route("/dashboard/usage", guarded(usage, operator=True), methods=["GET"]),
    Route("/dashboard/usage.csv", guarded(usage_csv, **EXPORT), methods=["GET"]),
]
