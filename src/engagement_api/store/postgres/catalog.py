"""Users and Posts on PostgreSQL (mixed into PostgresStore).

The same results as the SQLite catalog; Posts are upserted set-based (one statement per step,
not per Post), with the records of one Post in one call folded in order first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

from engagement_api.contract.ids import from_signed, to_signed
from engagement_api.contract.metrics import VIDEO_VIEWS
from engagement_api.contract.policy import PostFacts
from engagement_api.domain import MediaItem, Post, PostRecord, User
from engagement_api.store.postgres.pool import Connection, PgPool
from engagement_api.store.rows import FACT_COLUMNS, facts_from_rows

#: The facts of the Posts of an ID array (``post_facts``).
FACTS_OF_POSTS = f"SELECT {FACT_COLUMNS} FROM posts WHERE id = ANY(%s::bigint[])"  # noqa: S608
_ADD_VIDEO = (
    "INSERT INTO video_totals AS v (media_key, views) "
    "SELECT k, n FROM unnest(%b::text[], %b::bigint[]) AS t (k, n) "
    'ORDER BY k COLLATE "C" '
    "ON CONFLICT (media_key) DO UPDATE SET views = v.views + excluded.views"
)


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


def dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def signed(ids: Iterable[int]) -> list[int]:
    """Distinct IDs as stored (signed), sorted."""
    return sorted({to_signed(i) for i in ids})


def id_array(ids: Iterable[int]) -> str:
    """The distinct IDs as stored (signed) in a ``bigint[]`` text literal (a parameter for
    ``%s::bigint[]``; in any order): on the hot read paths, one string is cheaper to send than
    a list the driver dumps item by item. IDs below 2**63 (all of them, as a rule) are their
    own signed form, and are not mapped one by one."""
    distinct = set(ids)
    if distinct and max(distinct) >= 2**63:
        distinct = set(map(to_signed, distinct))
    return "{" + ",".join(map(str, distinct)) + "}"


@dataclass(slots=True)
class _Upsert:
    """Every record of one Post in an upsert_posts call, folded in order."""

    author_id: int
    created_at: int
    protected: bool | None = None
    deleted: bool | None = None
    media: tuple[MediaItem, ...] | None = None
    videos: list[str | None] = field(default_factory=list)  # video of each media change


class PostgresCatalog:
    """Needs ``_db`` (a :class:`PgPool`) from the class it is mixed into."""

    _db: PgPool

    def upsert_users(self, users: Sequence[User]) -> int:
        rows = [(to_signed(u.id), u.handle, u.handle.lower()) for u in users]

        def work(conn: Connection) -> None:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO users (id, handle, handle_lc) VALUES (%s, %s, %s) "
                    "ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, "
                    "handle_lc = excluded.handle_lc",
                    rows,
                )

        if rows:
            self._db.transact(work)
        return len(users)

    def get_users(self, ids: Iterable[int]) -> dict[int, User]:
        wanted = signed(ids)
        rows = self._db.read(
            lambda conn: conn.execute(
                "SELECT id, handle FROM users WHERE id = ANY(%b::bigint[])", (wanted,)
            ).fetchall()
        )
        return {from_signed(uid): User(from_signed(uid), handle) for uid, handle in rows}

    def users_by_handle(self, handles: Iterable[str]) -> dict[str, User]:
        wanted = sorted({h.lower() for h in handles})
        rows = self._db.read(
            lambda conn: conn.execute(
                "SELECT id, handle, handle_lc FROM users WHERE handle_lc = ANY(%b::text[])",
                (wanted,),
            ).fetchall()
        )
        return {handle_lc: User(from_signed(uid), handle) for uid, handle, handle_lc in rows}

    def upsert_posts(self, posts: Sequence[PostRecord]) -> int:
        folded: dict[int, _Upsert] = {}
        for record in posts:
            pid = to_signed(record.id)
            entry = folded.get(pid)
            if entry is None:
                entry = _Upsert(to_signed(record.author_id), ts(record.created_at))
                folded[pid] = entry
            if record.protected is not None:
                entry.protected = record.protected
            if record.deleted is not None:
                entry.deleted = record.deleted
            if record.media is not None:
                entry.media = record.media
                entry.videos.append(
                    next((m.media_key for m in record.media if m.type == "video"), None)
                )
        if folded:
            self._db.transact(lambda conn: self._upsert_posts(conn, folded))
        return len(posts)

    @staticmethod
    def _upsert_posts(conn: Connection, folded: dict[int, _Upsert]) -> None:
        ids = sorted(folded)
        conn.execute(
            "INSERT INTO posts (id, author_id, created_at) "
            "SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::bigint[]) ORDER BY 1 "
            "ON CONFLICT (id) DO NOTHING",
            (ids, [folded[i].author_id for i in ids], [folded[i].created_at for i in ids]),
        )
        old_video: dict[int, str | None] = dict(
            conn.execute(
                "SELECT id, video_key FROM posts WHERE id = ANY(%b::bigint[]) ORDER BY id "
                "FOR UPDATE",
                (ids,),
            ).fetchall()
        )
        flags = [i for i in ids if folded[i].protected is not None or folded[i].deleted is not None]
        if flags:
            conn.execute(
                "UPDATE posts p SET protected = coalesce(f.protected, p.protected), "
                "deleted = coalesce(f.deleted, p.deleted) "
                "FROM unnest(%b::bigint[], %b::boolean[], %b::boolean[]) AS f (id, protected, "
                "deleted) WHERE p.id = f.id",
                (flags, [folded[i].protected for i in flags], [folded[i].deleted for i in flags]),
            )
        with_media = [i for i in ids if folded[i].media is not None]
        if not with_media:
            return
        conn.execute("DELETE FROM post_media WHERE post_id = ANY(%b::bigint[])", (with_media,))
        media = [(i, pos, m) for i in with_media for pos, m in enumerate(folded[i].media or ())]
        conn.execute(
            "INSERT INTO post_media (post_id, position, media_key, type) "
            "SELECT * FROM unnest(%b::bigint[], %b::integer[], %b::text[], %b::text[])",
            (
                [i for i, _p, _m in media],
                [p for _i, p, _m in media],
                [m.media_key for _i, _p, m in media],
                [m.type for _i, _p, m in media],
            ),
        )
        # The Post's video before, then after each of its records in turn (as SQLite goes).
        chains = {i: [old_video.get(i), *folded[i].videos] for i in with_media}
        moved = [i for i in with_media if any(a != b for a, b in pairwise(chains[i]))]
        if not moved:
            return
        changed = [i for i in moved if chains[i][-1] != chains[i][0]]
        conn.execute(
            "UPDATE posts p SET video_key = v.key FROM unnest(%b::bigint[], %b::text[]) "
            "AS v (id, key) WHERE p.id = v.id",
            (changed, [chains[i][-1] for i in changed]),
        )
        # Keep video_totals[key] == sum of lifetime views of the Posts whose video is key.
        views = conn.execute(
            "SELECT post_id, count FROM counts_total WHERE post_id = ANY(%b::bigint[]) "
            "AND metric = %s AND count <> 0",
            (moved, VIDEO_VIEWS.code),
        ).fetchall()
        by_key: dict[str, int] = defaultdict(int)
        for pid, count in views:
            for old, new in pairwise(chains[pid]):
                if old == new:
                    continue
                if old is not None:
                    by_key[old] -= count
                if new is not None:
                    by_key[new] += count
        if by_key:
            conn.execute(_ADD_VIDEO, (list(by_key), list(by_key.values())))

    def get_posts(self, ids: Iterable[int]) -> dict[int, Post]:
        wanted = id_array(ids)

        def work(conn: Connection) -> tuple[list[tuple[int, ...]], list[tuple[int, str, str]]]:
            # both queries in one round trip (pipeline mode); binary results (no text
            # formatting and parsing on either side)
            with conn.pipeline():
                posts = conn.execute(
                    "SELECT id, author_id, created_at, protected, deleted FROM posts "
                    "WHERE id = ANY(%s::bigint[])",
                    (wanted,),
                    binary=True,
                )
                media = conn.execute(
                    "SELECT post_id, media_key, type FROM post_media "
                    "WHERE post_id = ANY(%s::bigint[]) ORDER BY post_id, position",
                    (wanted,),
                    binary=True,
                )
            return posts.fetchall(), media.fetchall()

        rows, media_rows = self._db.read(work)
        media: dict[int, list[MediaItem]] = defaultdict(list)
        for pid, key, kind in media_rows:
            media[pid].append(MediaItem(key, kind))
        return {
            from_signed(pid): Post(
                id=from_signed(pid),
                author_id=from_signed(author),
                created_at=dt(created),
                media=tuple(media.get(pid, ())),
                protected=bool(protected),
                deleted=bool(deleted),
            )
            for pid, author, created, protected, deleted in rows
        }

    def post_facts(self, ids: Iterable[int]) -> dict[int, PostFacts]:
        rows = self._db.read(
            lambda conn: conn.execute(FACTS_OF_POSTS, (id_array(ids),), binary=True).fetchall()
        )
        found: dict[int, PostFacts] = {}
        facts_from_rows(rows, found)
        return found

    def posts_by_author(self, author_id: int) -> list[int]:
        rows = self._db.read(
            lambda conn: conn.execute(
                "SELECT id FROM posts WHERE author_id = %s", (to_signed(author_id),)
            ).fetchall()
        )
        return sorted(from_signed(r[0]) for r in rows)

    def list_users(self, after: str, limit: int) -> list[User]:
        rows = self._db.read(
            lambda conn: conn.execute(
                'SELECT id, handle FROM users WHERE handle_lc COLLATE "C" > %s '
                'ORDER BY handle_lc COLLATE "C" LIMIT %s',
                (after, limit),
            ).fetchall()
        )
        return [User(from_signed(uid), handle) for uid, handle in rows]
