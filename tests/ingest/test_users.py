"""Users: IDs, handles, case-insensitive uniqueness within the batch and against the store."""

from __future__ import annotations

import pytest

from engagement_api.domain import User
from engagement_api.ingest import BatchRejected, validate_users
from engagement_api.ingest.decode import numbered

STORED = {"alice": User(42, "Alice"), "bob": User(43, "bob")}


def test_valid_users_in_first_appearance_order() -> None:
    users = validate_users(
        numbered([{"id": "7", "handle": "Carol_1"}, {"id": 8, "handle": "d"}]), STORED
    )
    assert users == [User(7, "Carol_1"), User(8, "d")]


def test_reloading_a_stored_user_is_accepted() -> None:
    assert validate_users(numbered([{"id": "42", "handle": "ALICE"}]), STORED) == [
        User(42, "ALICE")
    ]


def test_same_id_twice_last_record_wins() -> None:
    users = validate_users(
        numbered(
            [{"id": "7", "handle": "c"}, {"id": "8", "handle": "e"}, {"id": "7", "handle": "d"}]
        ),
        {},
    )
    assert users == [User(7, "d"), User(8, "e")]


@pytest.mark.parametrize(
    ("records", "messages"),
    [
        ([{"handle": "x"}], ["line 1: id: is required"]),
        ([{"id": None, "handle": "x"}], ["line 1: id: is required"]),
        (
            [{"id": "12ab", "handle": "x"}],
            ['line 1: id "12ab": must be a string of decimal digits'],
        ),
        ([{"id": -1, "handle": "x"}], ["line 1: id -1: must not be negative"]),
        (
            [{"id": True, "handle": "x"}],
            ["line 1: id true: must be a string of digits, not a boolean"],
        ),
        ([{"id": "1"}], ["line 1: handle: is required"]),
        ([{"id": "1", "handle": 5}], ["line 1: handle 5: must be a string"]),
        (
            [{"id": "1", "handle": ""}],
            ['line 1: handle "": must be 1 to 15 letters, digits or underscores'],
        ),
        (
            [{"id": "1", "handle": "a" * 16}],
            [f'line 1: handle "{"a" * 16}": must be 1 to 15 letters, digits or underscores'],
        ),
        (
            [{"id": "1", "handle": "bad-name"}],
            ['line 1: handle "bad-name": must be 1 to 15 letters, digits or underscores'],
        ),
        (
            [{"id": "1", "handle": "émile"}],
            ['line 1: handle "émile": must be 1 to 15 letters, digits or underscores'],
        ),
        ([{"id": "1", "handle": "BOB"}], ['line 1: handle "BOB": is taken by user 43']),
        (
            [{"id": "1", "handle": "x"}, {"id": "2", "handle": "X"}],
            ['line 2: handle "X": is also given to user 1 on line 1'],
        ),
        (["alice"], ["line 1: must be a JSON object, not a string"]),
        ([[1]], ["line 1: must be a JSON object, not an array"]),
        ([{}], ["line 1: id: is required", "line 1: handle: is required"]),
    ],
)
def test_bad_lines(records: list[object], messages: list[str]) -> None:
    with pytest.raises(BatchRejected) as caught:
        validate_users(numbered(records), STORED)
    assert caught.value.messages == messages


def test_a_handle_freed_in_the_same_batch_is_still_taken() -> None:
    records = [{"id": "43", "handle": "robert"}, {"id": "44", "handle": "bob"}]
    with pytest.raises(BatchRejected) as caught:
        validate_users(numbered(records), STORED)
    assert caught.value.messages == ['line 2: handle "bob": is taken by user 43']
