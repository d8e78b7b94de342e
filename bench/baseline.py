"""The naive approach the benchmark compares against: keep every raw event, count at read time.

Ingest parses each NDJSON line with orjson and inserts ``(post_id, metric, at, count)`` rows into
a ``raw_events`` table of the store's own database, one transaction per file, with the
``(post_id, at)`` index built after the last file: on SQLite (:class:`RawEvents`) in the same
file, same journal and sync settings as the store, with ``executemany``; on PostgreSQL
(:class:`PgRawEvents`) in the same database with a binary ``COPY``, the fastest way in.

Reads answer ``/totals`` and ``/historical`` with a plain ``GROUP BY`` over ``raw_events`` and
render the response shape of the contract (spec section 5) with code written here, independently
of ``engagement_api.contract.response``, so the benchmark's equality check is also a
cross-check of the real read path. Only what the benchmark's requests need is implemented:
string IDs, canonical metric names, ``start``/``end`` as ``YYYY-MM-DDTHH:MM:SSZ``, Post IDs below
2**63 (stored as they are; the store maps larger ones onto negative integers).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from engagement_api.contract.metrics import ALIASES, METRICS

CODES = {name: m.code for name, m in METRICS.items()}
CODES.update({alias: METRICS[name].code for alias, name in ALIASES.items()})
ENGAGEMENT_CODES = tuple(sorted(m.code for m in METRICS.values() if m.is_engagement))
ENGAGEMENTS = "engagements"
VIDEO_VIEWS = "video_views"
VIDEO_CODE = METRICS[VIDEO_VIEWS].code
IMPRESSIONS_AGE = timedelta(days=90)
VIDEO_AGE = timedelta(days=1800)

TWEET_ID, TYPE, DAY, HOUR = "tweet.id", "engagement.type", "engagement.day", "engagement.hour"

Cells = dict[tuple[int, str, int], int]  # (post id, metric name, hour or 0) -> count


def _marks(n: int) -> str:
    return ",".join("?" * n)


class RawEvents:
    """The ``raw_events`` table and the naive reads over it (own connection), on SQLite."""

    mark = "?"

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=30000")

    def close(self) -> None:
        self.conn.close()

    # -- ingest ----------------------------------------------------------------------------

    def create(self) -> None:
        self.conn.execute("DROP TABLE IF EXISTS raw_events")
        self.conn.execute(
            "CREATE TABLE raw_events (post_id INTEGER, metric INTEGER, at INTEGER, count INTEGER)"
        )

    def insert(self, data: bytes) -> int:
        """Parse NDJSON events and insert them as rows, in one transaction."""
        loads, codes, parse = orjson.loads, CODES, datetime.fromisoformat
        rows = []
        for line in data.splitlines():
            if not line:
                continue
            event = loads(line)
            rows.append(
                (
                    int(event["tweet_id"]),
                    codes[event["type"]],
                    int(parse(event["at"]).timestamp()),
                    event.get("count", 1),
                )
            )
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO raw_events VALUES (?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        return len(rows)

    def build_index(self) -> None:
        self.conn.execute("CREATE INDEX raw_events_post_at ON raw_events (post_id, at)")

    def rows(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM raw_events").fetchone()[0])

    # -- the SQL dialect -------------------------------------------------------------------

    def _in(self, column: str, values: Sequence[object], kind: str) -> tuple[str, list[object]]:
        """``column IN (values)`` and its parameters (``kind`` is the SQL type of the values)."""
        return f"{column} IN ({_marks(len(values))})", list(values)

    def _query(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    # -- reads -----------------------------------------------------------------------------

    def _posts(self, ids: list[int]) -> dict[int, tuple[int, datetime, bool, str | None]]:
        where, params = self._in("id", ids, "bigint")
        sql = (
            "SELECT id, author_id, created_at, protected, deleted, video_key FROM posts "
            f"WHERE {where}"
        )
        return {
            pid: (author, datetime.fromtimestamp(created, UTC), not (prot or dele), video)
            for pid, author, created, prot, dele, video in self._query(sql, params)
        }

    def totals(self, body: bytes, user_id: int, now: datetime) -> dict[str, object]:
        """``/totals``: lifetime sums per Post and metric; engagements from the engagement-type
        rows with positive counts; video views summed over every Post sharing the video."""
        request = orjson.loads(body)
        ids = sorted({int(i) for i in request["tweet_ids"]})
        names = sorted(set(request["engagement_types"]))
        posts = self._posts(ids)
        available = [i for i in ids if i in posts and posts[i][2]]
        _check_owner(available, posts, user_id)
        codes = {CODES[n] for n in names if n not in (ENGAGEMENTS, VIDEO_VIEWS)}
        if ENGAGEMENTS in names:
            codes.update(ENGAGEMENT_CODES)
        sums: dict[tuple[int, int], tuple[int, int]] = {}
        if codes:
            by_post, post_params = self._in("post_id", available, "bigint")
            by_metric, metric_params = self._in("metric", sorted(codes), "integer")
            sql = (
                "SELECT post_id, metric, SUM(count), "
                "SUM(CASE WHEN count > 0 THEN count ELSE 0 END) FROM raw_events "
                f"WHERE {by_post} AND {by_metric} GROUP BY post_id, metric"
            )
            for pid, code, total, positive in self._query(sql, [*post_params, *metric_params]):
                sums[(pid, code)] = (total, positive)
        views = self._video_totals(available, posts) if VIDEO_VIEWS in names else {}
        cells: Cells = {}
        for pid in available:
            for name in names:
                if name == ENGAGEMENTS:
                    value = sum(sums.get((pid, c), (0, 0))[1] for c in ENGAGEMENT_CODES)
                elif name == VIDEO_VIEWS:
                    value = views.get(pid, 0)
                else:
                    value = sums.get((pid, CODES[name]), (0, 0))[0]
                cells[(pid, name, 0)] = max(0, value)
        limited = set(names) & {ENGAGEMENTS, "impressions"}
        old = [i for i in available if now - posts[i][1] > IMPRESSIONS_AGE] if limited else []
        for pid in old:
            for name in limited:
                cells[(pid, name, 0)] = 0
        old_video = []
        if VIDEO_VIEWS in names:
            old_video = [i for i in available if now - posts[i][1] > VIDEO_AGE]
            for pid in old_video:
                cells[(pid, VIDEO_VIEWS, 0)] = 0
        body_out: dict[str, object] = {}
        for gname, grouping in request["groupings"].items():
            body_out[gname] = _tree(grouping["group_by"], cells, available, names, [0])
        _metadata(body_out, ids, available, old, old_video)
        return body_out

    def _video_totals(
        self, available: list[int], posts: dict[int, tuple[int, datetime, bool, str | None]]
    ) -> dict[int, int]:
        keys = sorted({v for i in available if (v := posts[i][3]) is not None})
        if not keys:
            return {}
        by_video, params = self._in("p.video_key", keys, "text")
        sql = (
            "SELECT p.video_key, SUM(r.count) FROM posts p JOIN raw_events r "
            f"ON r.post_id = p.id WHERE {by_video} AND r.metric = {self.mark} "
            "GROUP BY p.video_key"
        )
        by_key = dict(self._query(sql, [*params, VIDEO_CODE]))
        return {i: by_key.get(posts[i][3], 0) for i in available if posts[i][3] is not None}

    def historical(self, body: bytes, user_id: int, now: datetime) -> dict[str, object]:
        """``/historical``: ``GROUP BY post_id, metric, at / 3600`` over the window."""
        request = orjson.loads(body)
        ids = sorted({int(i) for i in request["tweet_ids"]})
        names = sorted(set(request["engagement_types"]))
        start = datetime.fromisoformat(request["start"])
        end = datetime.fromisoformat(request["end"])
        start_hour = int(start.timestamp()) // 3600
        end_hour = -(-int(end.timestamp()) // 3600)
        posts = self._posts(ids)
        available = [i for i in ids if i in posts and posts[i][2]]
        _check_owner(available, posts, user_id)
        codes = {CODES[n] for n in names if n != ENGAGEMENTS}
        if ENGAGEMENTS in names:
            codes.update(ENGAGEMENT_CODES)
        by_code = {CODES[n]: n for n in names if n != ENGAGEMENTS}
        engagement_codes = set(ENGAGEMENT_CODES) if ENGAGEMENTS in names else set()
        by_post, post_params = self._in("post_id", available, "bigint")
        by_metric, metric_params = self._in("metric", sorted(codes), "integer")
        m = self.mark
        sql = (
            "SELECT post_id, metric, at / 3600 AS h, SUM(count), "
            "SUM(CASE WHEN count > 0 THEN count ELSE 0 END) FROM raw_events "
            f"WHERE {by_post} AND at >= {m} AND at < {m} "
            f"AND {by_metric} GROUP BY post_id, metric, h"
        )
        params = [*post_params, start_hour * 3600, end_hour * 3600, *metric_params]
        cells: Cells = defaultdict(int)
        for pid, code, hour, total, positive in self._query(sql, params):
            name = by_code.get(code)
            if name is not None:
                cells[(pid, name, hour)] += total
            if code in engagement_codes:
                cells[(pid, ENGAGEMENTS, hour)] += positive
        old_video = [i for i in available if now - posts[i][1] > VIDEO_AGE]
        if VIDEO_VIEWS in names:
            for pid in old_video:
                for hour in range(start_hour, end_hour):
                    cells.pop((pid, VIDEO_VIEWS, hour), None)
        else:
            old_video = []
        hours = list(range(start_hour, end_hour))
        body_out: dict[str, object] = {"start": _stamp(start_hour), "end": _stamp(end_hour)}
        for gname, grouping in request["groupings"].items():
            body_out[gname] = _tree(grouping["group_by"], cells, available, names, hours)
        _metadata(body_out, ids, available, [], old_video)
        return body_out


class PgRawEvents(RawEvents):
    """``raw_events`` in the store's PostgreSQL database (own autocommit connection): loaded
    with a binary ``COPY`` per file, in one transaction; the same reads as on SQLite."""

    mark = "%s"
    _COPY = "COPY raw_events (post_id, metric, at, count) FROM STDIN (FORMAT BINARY)"
    _TYPES = ("int8", "int4", "int8", "int4")

    def __init__(self, url: str) -> None:
        import psycopg  # only when the benchmark runs on PostgreSQL

        self.pg = psycopg.connect(url, autocommit=True)

    def close(self) -> None:
        self.pg.close()

    def create(self) -> None:
        self.pg.execute("DROP TABLE IF EXISTS raw_events")
        self.pg.execute(
            "CREATE TABLE raw_events (post_id bigint, metric int, at bigint, count int)"
        )

    def insert(self, data: bytes) -> int:
        """Parse NDJSON events and ``COPY`` them in as rows, in one transaction."""
        loads, codes, parse = orjson.loads, CODES, datetime.fromisoformat
        rows = 0
        with self.pg.transaction(), self.pg.cursor() as cur, cur.copy(self._COPY) as copy:
            copy.set_types(list(self._TYPES))
            write = copy.write_row
            for line in data.splitlines():
                if not line:
                    continue
                event = loads(line)
                write(
                    (
                        int(event["tweet_id"]),
                        codes[event["type"]],
                        int(parse(event["at"]).timestamp()),
                        event.get("count", 1),
                    )
                )
                rows += 1
        return rows

    def build_index(self) -> None:
        self.pg.execute("CREATE INDEX raw_events_post_at ON raw_events (post_id, at)")

    def rows(self) -> int:
        row = self.pg.execute("SELECT count(*) FROM raw_events").fetchone()
        return int(row[0]) if row else 0

    def _in(self, column: str, values: Sequence[object], kind: str) -> tuple[str, list[object]]:
        return f"{column} = ANY(%s::{kind}[])", [list(values)]

    def _query(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        return self.pg.execute(sql, params).fetchall()


def _check_owner(
    available: list[int], posts: dict[int, tuple[int, datetime, bool, str | None]], user: int
) -> None:
    unowned = [i for i in available if posts[i][0] != user]
    if unowned or not available:
        raise ValueError(f"baseline handles owned, available Posts only: {unowned}")


def _stamp(hour: int) -> str:
    return datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _metadata(
    body: dict[str, object],
    ids: list[int],
    available: list[int],
    old: list[int],
    old_video: list[int],
) -> None:
    unavailable = sorted(set(ids) - set(available))
    errors = []
    if unavailable:
        errors.append(f"{len(unavailable)} Tweet ID(s) are unavailable")
    if old:
        errors.append("Impressions & engagements for tweets older than 90 days are not supported")
    if old_video:
        errors.append("Video views for tweets older than 1800 days are not supported")
    if errors:
        body["errors"] = errors
    for key, values in (
        ("unavailable_tweet_ids", unavailable),
        ("unsupported_for_impressions_engagements_tweet_ids", old),
        ("unsupported_for_video_views_tweet_ids", old_video),
    ):
        if values:
            body[key] = [str(i) for i in values]


def _tree(
    group_by: list[str], cells: Cells, post_ids: list[int], names: list[str], hours: list[int]
) -> object:
    """A zero-filled tree, levels in ``group_by`` order, leaves summing the matching cells.

    ``hours`` are the window's hours (``[0]`` for lifetime totals). Cells are first summed
    into the grouping's own keys, then the tree is walked over every key that must appear.
    """
    levels = [level.lower() for level in group_by]
    day_of = {h: datetime.fromtimestamp(h * 3600, UTC).strftime("%Y-%m-%d") for h in hours}
    hod_of = {h: f"{h % 24:02d}" for h in hours}
    positions = [(TWEET_ID, TYPE, DAY, HOUR).index(level) for level in levels]
    sums: dict[tuple[object, ...], int] = defaultdict(int)
    for (pid, name, hour), count in cells.items():
        full = (pid, name, day_of[hour], hod_of[hour])
        sums[tuple([full[i] for i in positions])] += count
    # the time keys that exist: (day, hour-of-day) of each hour of the window
    days = sorted(set(day_of.values()))
    hods = sorted(set(hod_of.values()))
    hods_in: dict[str, list[str]] = defaultdict(list)
    days_at: dict[str, list[str]] = defaultdict(list)
    for h in hours:
        hods_in[day_of[h]].append(hod_of[h])
        days_at[hod_of[h]].append(day_of[h])
    ids: list[tuple[str, object]] = [(str(p), p) for p in post_ids]
    types: list[tuple[str, object]] = [(n, n) for n in names]
    get = sums.get
    last = len(levels) - 1

    def keys(level: str, day: str | None, hod: str | None) -> list[tuple[str, object]]:
        if level == TWEET_ID:
            return ids
        if level == TYPE:
            return types
        if level == DAY:
            return [(d, d) for d in (days if hod is None else sorted(days_at[hod]))]
        return [(x, x) for x in (hods if day is None else sorted(hods_in[day]))]

    def node(depth: int, path: tuple[object, ...], day: str | None, hod: str | None) -> object:
        level = levels[depth]
        pairs = keys(level, day, hod)
        if depth == last:
            return {label: str(get((*path, key), 0)) for label, key in pairs}
        if level == DAY:
            return {label: node(depth + 1, (*path, key), label, hod) for label, key in pairs}
        if level == HOUR:
            return {label: node(depth + 1, (*path, key), day, label) for label, key in pairs}
        return {label: node(depth + 1, (*path, key), day, hod) for label, key in pairs}

    return node(0, (), None, None)
