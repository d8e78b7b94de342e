"""The response body written straight to JSON: the bytes of ``orjson.dumps(render(...))``.

:func:`render_json` shares the counting and the reductions of :mod:`.response` and writes the
text from fixed pieces instead of building the dicts. Labels are encoded once, with orjson (so
the escaping is orjson's). A grouping's tree becomes a ``%``-template whose slots take the
values in key order, so a leaf costs C work only (the ``%`` fill) and the Python work goes with
the labels and the vectors. Two kinds of tree:

- *Suffixed*: the time levels all come last (``tweet.id``/``engagement.type`` first), so every
  (Post, metric) vector has the same time subtree, whose shape is made once per window
  (:func:`_suffix`, cached). The outer levels are a template whose slots take the subtree
  texts. An all-zero vector's text is made once; with one time level a vector's text is
  memoized by its values; with two, a mostly-zero vector is written per object of the upper
  level (a day, or an hour of day) from the all-zero objects, only its non-zero objects filled
  (memoized by their values), and any other vector in one fill.
- *Full*: a time level above ``tweet.id`` or ``engagement.type``; one template for the whole
  tree, its slots taking the vectors laid end to end through an index permutation.

A template and its permutation are built level by level (:class:`_Builder`): a level whose
children all have the same shape (``tweet.id``, ``engagement.type``, the lower time level)
joins one child text between its keys and shifts one child permutation per key; only the upper
of two time levels (a partial first or last day) builds a child per key.

Slots are ``%d``: the counts are ``int``, and ``%d`` of an ``int`` is its ``str()``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, compress, repeat
from operator import itemgetter
from typing import cast

import orjson

from engagement_api.contract.groupings import TIME_LEVELS, TWEET_ID, TYPE
from engagement_api.contract.policy import Decision
from engagement_api.contract.request import EngagementRequest
from engagement_api.contract.response import (
    Layout,
    Series,
    bounds,
    gather,
    metadata,
    reduce_grouping,
    time_axis,
)
from engagement_api.contract.windows import Window

__all__ = ["render_json"]

Picker = Callable[[Sequence[int]], tuple[int, ...]]

_VALUE = b'"%d"'  # a leaf's slot
_VALUE_SLOT = b':"%d"'  # a key's leaf
_TEXT = b"%s"  # a subtree's slot


def render_json(
    request: EngagementRequest,
    decision: Decision,
    totals: Mapping[tuple[int, str], int] | None,
    hourly: Iterable[tuple[int, str, int, int]] | None,
    lifetime: Sequence[Sequence[int]] | None = None,
    coded: Iterable[tuple[int, int, int, int]] | None = None,
) -> bytes:
    """Exactly ``orjson.dumps(render(request, decision, totals, hourly))``.

    On ``/totals`` the counts may come as ``lifetime`` instead of ``totals``: per asked metric
    (in ``request.metrics`` order), each Post's count in ``decision.post_ids`` order (what
    ``lifetime_columns`` of the store gives). On the windowed endpoints the hours may come as
    ``coded`` instead of ``hourly``: the rows with metric codes for names (what ``hourly`` of
    the store gives)."""
    window = request.window
    parts: dict[str, bytes] = {key: orjson.dumps(value) for key, value in bounds(window)}
    ids = list(map(b'"%d"'.__mod__, decision.post_ids))  # (digits: nothing to escape)
    names = [_key(m.asked) for m in request.metrics]
    columns: list[list[int]] | None = None
    series: Series | None = None
    for grouping in request.groupings:
        group_by = grouping.group_by
        if window is None:
            if group_by not in _LIFETIME_SHAPES:  # the parser's rules allow no other
                raise ValueError(f"a /totals grouping must include {TYPE} and no time level")
            if columns is None:
                columns = _lifetime_columns(request, decision, totals or {}, lifetime)
            parts[grouping.name] = _lifetime_grouping(group_by, ids, names, columns)
            continue
        if series is None:
            series = gather(request, decision, totals, hourly, coded)
        rows, layout = reduce_grouping(request, decision, series, group_by)
        parts[grouping.name] = _grouping(group_by, window, ids, names, rows, layout)
    for key, listed in metadata(decision):
        parts[key] = orjson.dumps(listed)
    pieces: list[bytes] = []
    for key, text in parts.items():
        pieces += (b",", orjson.dumps(key), b":", text)
    pieces[:1] = [b"{"]
    pieces.append(b"}")
    return b"".join(pieces)


#: The /totals groupings, every one written from the counts' columns (:func:`_lifetime_grouping`):
#: the parser allows no other shape on /totals (``engagement.type`` is required, no time level).
_LIFETIME_SHAPES = frozenset({(TWEET_ID, TYPE), (TYPE, TWEET_ID), (TYPE,)})


def _lifetime_columns(
    request: EngagementRequest,
    decision: Decision,
    totals: Mapping[tuple[int, str], int],
    lifetime: Sequence[Sequence[int]] | None,
) -> list[list[int]]:
    """Per asked metric (in request order), each Post's lifetime total clamped at 0, in the
    order of ``decision.post_ids``; zeroed (Post, metric) pairs 0. From ``lifetime`` when
    given, else from ``totals`` (clamped only if a count is negative)."""
    post_ids = decision.post_ids  # ascending: a Post's index is found by bisection
    if lifetime is None:
        lifetime = [
            [totals.get((pid, m.metric.name), 0) for pid in post_ids] for m in request.metrics
        ]
    columns = [
        list(map(max, repeat(0), column)) if min(column, default=0) < 0 else list(column)
        for column in lifetime
    ]
    for asked, column in zip(request.metrics, columns, strict=True):
        name = asked.metric.name
        for pid, zeroed in decision.zeroed:
            if zeroed == name:
                column[bisect_left(post_ids, pid)] = 0
    return columns


def _lifetime_grouping(
    group_by: tuple[str, ...], ids: list[bytes], names: list[bytes], columns: list[list[int]]
) -> bytes:
    """A /totals grouping of :data:`_LIFETIME_SHAPES` as one template filled in one go."""
    if group_by == (TYPE,):  # each metric summed over the Posts
        return (b"{" + b",".join([name + _VALUE_SLOT for name in names]) + b"}") % tuple(
            map(sum, columns)
        )
    if group_by == (TWEET_ID, TYPE):  # Post-major
        inner = b"{" + b",".join([name + _VALUE_SLOT for name in names]) + b"}"
        frame = b"{" + (b":" + inner + b",").join(ids) + b":" + inner + b"}"
        return frame % tuple(chain.from_iterable(zip(*columns, strict=True)))
    inner = b"{" + (_VALUE_SLOT + b",").join(ids) + _VALUE_SLOT + b"}"  # metric-major
    frame = b"{" + b",".join([name + b":" + inner for name in names]) + b"}"
    return frame % tuple(chain.from_iterable(columns))


def _key(label: str) -> bytes:
    """A label as JSON text, ready to go into a ``%``-template."""
    return orjson.dumps(label).replace(b"%", b"%%")


def _grouping(
    group_by: tuple[str, ...],
    window: Window | None,
    ids: list[bytes],
    names: list[bytes],
    rows: list[list[int]],
    layout: Layout,
) -> bytes:
    """The JSON text of one grouping's tree; ``rows`` in the order of ``vector_keys``."""
    timed = [level in TIME_LEVELS for level in group_by]
    outer = max((i + 1 for i, is_time in enumerate(timed) if not is_time), default=0)
    per_post = len(ids) if TWEET_ID in group_by else 1
    if outer < len(group_by) and not any(timed[:outer]):
        shape = _suffix(group_by[outer:], window)
        frame, slots = _Builder(group_by[:outer], ids, names, 1, per_post, _TEXT).build(0, 0)
        return frame % tuple(_subtrees(shape, [rows[slot] for slot in slots]))
    size = len(rows[0]) if rows else 0
    text, perm = _Builder(group_by, ids, names, size, per_post * size, _VALUE).build(0, layout)
    flat = rows[0] if len(rows) == 1 else list(chain.from_iterable(rows))
    return text % _picker(perm, len(flat))(flat)


@dataclass(frozen=True)
class _Suffix:
    """The time subtree under each vector, as fixed pieces (see :func:`_suffix`)."""

    template: bytes  # the whole subtree, a slot per value
    pick: Picker  # a vector's values in slot order
    zero: bytes  # the whole subtree's text when all zero
    # two time levels only (else empty):
    frame: bytes  # the subtree, a slot per upper key
    objects: tuple[bytes, ...]  # per upper key, the template of its object
    slices: tuple[slice, ...]  # per upper key, its object's values in a vector
    zeros: tuple[bytes, ...]  # per upper key, the text of its object when all zero
    owner: tuple[int, ...]  # per index of a vector, the upper key it falls under


@lru_cache(maxsize=32)
def _suffix(levels: tuple[str, ...], window: Window | None) -> _Suffix:
    """The pieces of the time levels ``levels`` of a window; with two levels, split at the
    upper one too (its objects are consecutive hours of a day, or every 24th for an hour of
    day)."""
    _, layout = time_axis(window, levels)
    template, perm = _Builder(levels, [], [], 0, 0, _VALUE).build(0, layout)
    pick = _picker(perm, len(perm))
    whole = _Suffix(template, pick, template % pick([0] * len(perm)), b"", (), (), (), ())
    if len(levels) == 1:
        return whole
    everything = range(len(perm))
    keys: list[bytes] = []
    objects: list[bytes] = []
    slices: list[slice] = []
    zeros: list[bytes] = []
    owner = [0] * len(perm)
    for upper, (key, sub) in enumerate(cast(list[tuple[str, list[tuple[str, int]]]], layout)):
        indexes = [index for _, index in sub]
        step = indexes[1] - indexes[0] if len(indexes) > 1 else 1
        piece = slice(indexes[0], indexes[-1] + 1, step) if indexes and step > 0 else None
        if piece is None or list(everything[piece]) != indexes:
            return whole  # not a slice: never, but then the subtree in one go is right too
        keys.append(_key(key) + b":" + _TEXT)
        objects.append(b"{" + b",".join([_key(label) + b":" + _VALUE for label, _ in sub]) + b"}")
        slices.append(piece)
        zeros.append(objects[-1] % ((0,) * len(indexes)))
        for index in indexes:
            owner[index] = upper
    frame = b"{" + b",".join(keys) + b"}"
    return _Suffix(
        template,
        pick,
        whole.zero,
        frame,
        tuple(objects),
        tuple(slices),
        tuple(zeros),
        tuple(owner),
    )


class _Memo(dict[tuple[int, ...], bytes]):
    """The texts of a template by the values filled in, made on first use."""

    def __init__(self, template: bytes) -> None:
        super().__init__()
        self.template = template

    def __missing__(self, values: tuple[int, ...]) -> bytes:
        text = self[values] = self.template % values
        return text


def _subtrees(shape: _Suffix, vectors: list[list[int]]) -> list[bytes]:
    """The text of each vector's time subtree, in order.

    An all-zero vector's is made once. One time level: a subtree's text is memoized by its
    values. Two: a vector with most of its upper keys' objects non-zero is filled in one go;
    one with few, from the all-zero objects with only its non-zero ones filled (memoized by
    their values: they repeat), put into the upper level's frame.
    """
    zero, template, pick = shape.zero, shape.template, shape.pick
    if not shape.objects:
        whole = _Memo(template)
        return [whole[pick(values)] if any(values) else zero for values in vectors]
    memos: dict[bytes, _Memo] = {}
    objects = [memos.setdefault(text, _Memo(text)) for text in shape.objects]
    frame, zeros, slices, owner = shape.frame, list(shape.zeros), shape.slices, shape.owner
    half = len(slices) / 2
    parts: list[bytes] = []
    nothing: list[int] | None = None  # the all-zero vector seen last (most are one object)
    for values in vectors:
        if values is nothing:
            parts.append(zero)
            continue
        if not any(values):
            nothing = values
            parts.append(zero)
            continue
        uppers = set(compress(owner, values))  # the upper keys with a non-zero value
        if len(uppers) > half:
            parts.append(template % pick(values))
            continue
        mine = zeros.copy()
        for upper in uppers:
            mine[upper] = objects[upper][tuple(values[slices[upper]])]
        parts.append(frame % tuple(mine))
    return parts


def _picker(perm: list[int], size: int) -> Picker:
    """A C-level ``values -> tuple(values[i] for i in perm)``."""
    if perm == list(range(size)):
        return tuple
    if len(perm) == 1:
        only = perm[0]
        return lambda values: (values[only],)
    return cast(Picker, itemgetter(*perm))


class _Builder:
    """Builds the template of a tree and, per slot in text order, its index into the vectors
    laid end to end (name-major, then Post, then the reduced time index)."""

    def __init__(
        self,
        levels: tuple[str, ...],
        ids: list[bytes],
        names: list[bytes],
        post_stride: int,
        name_stride: int,
        slot: bytes,
    ) -> None:
        self.levels = levels
        self.ids = ids
        self.names = names
        self.post_stride = post_stride
        self.name_stride = name_stride
        self.slot = slot
        self.labels: dict[str, bytes] = {}

    def build(self, depth: int, here: Layout) -> tuple[bytes, list[int]]:
        """The template and permutation of the subtree at ``depth`` with layout ``here``."""
        if depth == len(self.levels):
            return self.slot, [0]
        level = self.levels[depth]
        if level in (TWEET_ID, TYPE):
            keys, stride = (
                (self.ids, self.post_stride)
                if level == TWEET_ID
                else (self.names, self.name_stride)
            )
            offsets = range(0, len(keys) * stride, stride) if stride else [0] * len(keys)
            return _shared(keys, offsets, *self.build(depth + 1, here))
        entries = cast(list[tuple[str, Layout]], here)
        keys = [self.label(key) for key, _ in entries]
        if not entries or isinstance(entries[0][1], int):  # the lower time level
            offsets = [cast(int, sub) for _, sub in entries]
            return _shared(keys, offsets, *self.build(depth + 1, 0))
        children = [self.build(depth + 1, sub) for _, sub in entries]
        text = b",".join([key + b":" + sub for key, (sub, _) in zip(keys, children, strict=True)])
        return b"{" + text + b"}", list(chain.from_iterable(perm for _, perm in children))

    def label(self, key: str) -> bytes:
        text = self.labels.get(key)
        if text is None:
            text = self.labels[key] = _key(key)
        return text


def _shared(
    keys: list[bytes], offsets: Sequence[int], child: bytes, perm: list[int]
) -> tuple[bytes, list[int]]:
    """An object whose every key has the same child, shifted by that key's offset."""
    if not keys:
        return b"{}", []
    text = b"{" + (b":" + child + b",").join(keys) + b":" + child + b"}"
    if perm == [0]:
        return text, list(offsets)
    return text, list(chain.from_iterable(map(offset.__add__, perm) for offset in offsets))
