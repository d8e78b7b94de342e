"""Users and Posts on SQLite (mixed into SqliteStore)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence

from engagement_api.contract.ids import from_signed, to_signed
from engagement_api.contract.metrics import VIDEO_VIEWS
from engagement_api.contract.policy import PostFacts
from engagement_api.domain import MediaItem, Post, PostRecord, User
from engagement_api.store.sqlite.connection import SqliteDatabase
from engagement_api.store.sqlite.counters import cached_facts
from engagement_api.store.sqlite.statements import CHUNK, add_video_views, chunks, dt, marks, ts


class SqliteCatalog:
    """Needs ``_db`` (a :class:`SqliteDatabase`) from the class it is mixed into."""

    _db: SqliteDatabase

    def upsert_users(self, users: Sequence[User]) -> int:
        with self._db.write() as conn:
            conn.executemany(
                "INSERT INTO users (id, handle, handle_lc) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, "
                "handle_lc = excluded.handle_lc",
                [(to_signed(u.id), u.handle, u.handle.lower()) for u in users],
            )
        return len(users)

    def get_users(self, ids: Iterable[int]) -> dict[int, User]:
        wanted = sorted({to_signed(i) for i in ids})
        found: dict[int, User] = {}
        with self._db.read() as conn:
            for chunk in chunks(wanted):
                sql = f"SELECT id, handle FROM users WHERE id IN ({marks(len(chunk))})"  # noqa: S608
                for uid, handle in conn.execute(sql, chunk):
                    found[from_signed(uid)] = User(from_signed(uid), handle)
        return found

    def users_by_handle(self, handles: Iterable[str]) -> dict[str, User]:
        wanted = sorted({h.lower() for h in handles})
        found: dict[str, User] = {}
        with self._db.read() as conn:
            for i in range(0, len(wanted), CHUNK):
                chunk = wanted[i : i + CHUNK]
                where = marks(len(chunk))
                sql = f"SELECT id, handle, handle_lc FROM users WHERE handle_lc IN ({where})"  # noqa: S608
                for uid, handle, handle_lc in conn.execute(sql, chunk):
                    found[handle_lc] = User(from_signed(uid), handle)
        return found

    def upsert_posts(self, posts: Sequence[PostRecord]) -> int:
        with self._db.write() as conn:
            for record in posts:
                _upsert_post(conn, record)
        return len(posts)

    def get_posts(self, ids: Iterable[int]) -> dict[int, Post]:
        wanted = sorted({to_signed(i) for i in ids})
        rows: dict[int, tuple[int, int, int, int]] = {}
        media: dict[int, list[MediaItem]] = defaultdict(list)
        with self._db.read() as conn:
            for chunk in chunks(wanted):
                where = marks(len(chunk))
                for pid, author, created, protected, deleted in conn.execute(
                    f"SELECT id, author_id, created_at, protected, deleted FROM posts "  # noqa: S608
                    f"WHERE id IN ({where})",
                    chunk,
                ):
                    rows[pid] = (author, created, protected, deleted)
                for pid, key, kind in conn.execute(
                    f"SELECT post_id, media_key, type FROM post_media "  # noqa: S608
                    f"WHERE post_id IN ({where}) ORDER BY post_id, position",
                    chunk,
                ):
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
            for pid, (author, created, protected, deleted) in rows.items()
        }

    def post_facts(self, ids: Iterable[int]) -> dict[int, PostFacts]:
        """Read through the connection's :class:`ReadCache`: only Posts it does not hold (or
        all, after any commit) are read, in one statement per chunk."""
        wanted = ids if isinstance(ids, list | tuple) else list(ids)
        with self._db.read_cached() as (conn, cache):
            return cached_facts(conn, cache, wanted)

    def posts_by_author(self, author_id: int) -> list[int]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT id FROM posts WHERE author_id = ?", (to_signed(author_id),)
            ).fetchall()
        return sorted(from_signed(r[0]) for r in rows)

    def list_users(self, after: str, limit: int) -> list[User]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT id, handle FROM users WHERE handle_lc > ? ORDER BY handle_lc LIMIT ?",
                (after, limit),
            ).fetchall()
        return [User(from_signed(uid), handle) for uid, handle in rows]


def _upsert_post(conn: sqlite3.Connection, record: PostRecord) -> None:
    pid = to_signed(record.id)
    row = conn.execute("SELECT video_key FROM posts WHERE id = ?", (pid,)).fetchone()
    old_video: str | None = row[0] if row else None
    if row is None:
        conn.execute(
            "INSERT INTO posts (id, author_id, created_at, protected, deleted) "
            "VALUES (?, ?, ?, 0, 0)",
            (pid, to_signed(record.author_id), ts(record.created_at)),
        )
        conn.execute("INSERT OR IGNORE INTO post_keys (post_id) VALUES (?)", (pid,))
    if record.protected is not None:
        conn.execute("UPDATE posts SET protected = ? WHERE id = ?", (record.protected, pid))
    if record.deleted is not None:
        conn.execute("UPDATE posts SET deleted = ? WHERE id = ?", (record.deleted, pid))
    if record.media is None:
        return
    conn.execute("DELETE FROM post_media WHERE post_id = ?", (pid,))
    conn.executemany(
        "INSERT INTO post_media (post_id, position, media_key, type) VALUES (?, ?, ?, ?)",
        [(pid, pos, m.media_key, m.type) for pos, m in enumerate(record.media)],
    )
    new_video = next((m.media_key for m in record.media if m.type == "video"), None)
    if new_video == old_video:
        return
    conn.execute("UPDATE posts SET video_key = ? WHERE id = ?", (new_video, pid))
    # Keep video_totals[key] == sum of lifetime views of the Posts whose video is key.
    own = conn.execute(
        "SELECT count FROM counts_total WHERE post_id = ? AND metric = ?",
        (pid, VIDEO_VIEWS.code),
    ).fetchone()
    views = int(own[0]) if own else 0
    if views:
        if old_video is not None:
            add_video_views(conn, {old_video: -views})
        if new_video is not None:
            add_video_views(conn, {new_video: views})
