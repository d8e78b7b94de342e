"""Merging the answers to the pieces of a split request into the answer to the whole (pure).

Every leaf of a grouping tree is a sum over disjoint (Post, metric, hour) buckets, and the
pieces split the Posts and the hours into disjoint sets, so the answer to the whole is the
key-wise union of the pieces' trees with the leaves summed at every depth. That holds for
every grouping shape: per-Post keys (disjoint across ID chunks) are simply united; days that
straddle two windows, hour-of-day keys (``engagement.hour`` without ``engagement.day``) and
sums across Posts add up; zero-filled keys are united. Keys are then sorted as the server
sorts them: IDs numerically, everything else as text (metric names, ``YYYY-MM-DD``, ``HH``).

Metadata arrays are concatenated, de-duplicated and sorted by ID; ``errors`` keeps each message
once, with the count in ``<N> Tweet ID(s) are unavailable`` recomputed for the whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

START, END, ERRORS = "start", "end", "errors"
UNAVAILABLE = "unavailable_tweet_ids"
UNSUPPORTED_IE = "unsupported_for_impressions_engagements_tweet_ids"
UNSUPPORTED_VV = "unsupported_for_video_views_tweet_ids"
ID_ARRAYS = (UNAVAILABLE, UNSUPPORTED_IE, UNSUPPORTED_VV)
RESERVED = frozenset({START, END, ERRORS, *ID_ARRAYS})

_UNAVAILABLE_COUNT = re.compile(r"^\d+ Tweet ID\(s\) are unavailable$")
#: The server lists age-limit messages in this order (after the unavailable count). The 1800-day
#: message is one that servers before the stand-in release sent (ours, not the public API's);
#: answers of such servers still merge in the order they gave.
_MESSAGE_ORDER = {
    "Impressions & engagements for tweets older than 90 days are not supported": 0,
    "Video views for tweets older than 1800 days are not supported": 1,
}

#: A grouping tree with int leaves.
Tree = dict[str, Any]


def _id_key(value: str) -> tuple[int, int | str]:
    return (0, int(value)) if value.isdigit() else (1, value)


def add_tree(into: Tree, tree: Mapping[str, Any], levels: Sequence[str]) -> None:
    """Add ``tree`` (leaves as strings or ints) into ``into`` (int leaves), key-wise."""
    if len(levels) == 1:
        for key, leaf in tree.items():
            into[key] = into.get(key, 0) + int(leaf)
        return
    for key, sub in tree.items():
        add_tree(into.setdefault(key, {}), sub, levels[1:])


def sort_tree(tree: Tree, levels: Sequence[str]) -> Tree:
    level = levels[0].lower()
    keys = sorted(tree, key=_id_key) if level == "tweet.id" else sorted(tree)
    if len(levels) == 1:
        return {k: tree[k] for k in keys}
    return {k: sort_tree(tree[k], levels[1:]) for k in keys}


def sorted_ids(ids: Iterable[str]) -> list[str]:
    return sorted(set(ids), key=_id_key)


def merge(
    answers: Sequence[Mapping[str, Any]],
    groupings: Mapping[str, Mapping[str, Sequence[str]]],
    unavailable: Iterable[str] = (),
) -> dict[str, Any]:
    """One answer (int leaves) from the answers to the pieces.

    ``unavailable`` adds IDs of pieces that were refused as wholly unavailable (their 400
    ``Tweet ID(s) are unavailable``): in one big request those are just unavailable Posts.
    """
    out: dict[str, Any] = {}
    starts = [a[START] for a in answers if START in a]
    ends = [a[END] for a in answers if END in a]
    if starts:
        out[START] = min(starts)
    if ends:
        out[END] = max(ends)
    for name, spec in groupings.items():
        levels = list(spec["group_by"])
        tree: Tree = {}
        for answer in answers:
            if name in answer:
                add_tree(tree, answer[name], levels)
        out[name] = sort_tree(tree, levels)
    arrays: dict[str, list[str]] = {key: [] for key in ID_ARRAYS}
    arrays[UNAVAILABLE].extend(unavailable)
    messages: list[str] = []
    for answer in answers:
        for key in ID_ARRAYS:
            arrays[key].extend(answer.get(key, ()))
        for message in answer.get(ERRORS, ()):
            if not _UNAVAILABLE_COUNT.match(message) and message not in messages:
                messages.append(message)
    messages.sort(key=lambda m: _MESSAGE_ORDER.get(m, len(_MESSAGE_ORDER)))  # stable
    gone = sorted_ids(arrays[UNAVAILABLE])
    if gone:
        messages.insert(0, f"{len(gone)} Tweet ID(s) are unavailable")
    if messages:
        out[ERRORS] = messages
    for key in ID_ARRAYS:
        if arrays[key]:
            out[key] = sorted_ids(arrays[key])
    return out
