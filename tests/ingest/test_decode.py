"""Decoding batches: NDJSON, JSON arrays, CSV; format detection; line numbers."""

from __future__ import annotations

import pytest

from engagement_api.ingest import Format, Kind, decode_records, detect_format


@pytest.mark.parametrize(
    ("content_type", "filename", "data", "expected"),
    [
        ("application/x-ndjson", None, b"[]", Format.NDJSON),
        ("application/json; charset=utf-8", None, b"{}", Format.JSON),
        ("Application/JSON", None, b"", Format.JSON),
        ("text/csv", "events.json", b"[]", Format.CSV),
        ("application/octet-stream", "events.ndjson", b"[]", Format.NDJSON),
        (None, "events.jsonl", b"", Format.NDJSON),
        (None, "/tmp/x/EVENTS.JSON", b"", Format.JSON),
        (None, "events.csv", b"{}", Format.CSV),
        (None, None, b"  \n [{}]", Format.JSON),
        (None, None, b'\xef\xbb\xbf{"a": 1}', Format.NDJSON),
        (None, None, b"", Format.NDJSON),
        (None, None, b"tweet_id,type,at\n1,favorites,2026-01-01", Format.CSV),
        (None, None, b"hello", Format.NDJSON),
        (None, "events.txt", b"[1]", Format.JSON),
    ],
)
def test_detect_format(
    content_type: str | None, filename: str | None, data: bytes, expected: Format
) -> None:
    assert detect_format(content_type, filename, data) is expected


def rendered(data: bytes, fmt: str, kind: Kind | None = None) -> list[str]:
    return [error.render() for error in decode_records(data, fmt, kind).errors]


class TestNdjson:
    def test_lines_are_numbered_and_blank_lines_skipped(self) -> None:
        data = b'{"a":1}\n\n  \t\n{"b":2}\r\n{"c":3}'
        assert decode_records(data, "ndjson").records == [
            (1, {"a": 1}),
            (4, {"b": 2}),
            (5, {"c": 3}),
        ]

    def test_a_bom_is_skipped(self) -> None:
        assert decode_records(b'\xef\xbb\xbf{"a":1}\n', "ndjson").records == [(1, {"a": 1})]

    def test_an_invalid_line_is_a_bad_line_and_others_still_decode(self) -> None:
        decoded = decode_records(b'{"a":1}\n{"a":\n[1,2]\n', "ndjson")
        assert decoded.records == [(1, {"a": 1}), (3, [1, 2])]
        assert [e.line for e in decoded.errors] == [2]
        assert decoded.errors[0].render().startswith("line 2: invalid JSON: ")

    def test_two_values_on_one_line_are_invalid(self) -> None:
        assert rendered(b'{"a":1} {"b":2}\n', "ndjson")[0].startswith("line 1: invalid JSON")

    def test_invalid_utf8_names_the_line_and_column(self) -> None:
        data = b'{"a":1}\n{"a":"\xff"}\n'
        assert rendered(data, "ndjson") == ["line 2: not valid UTF-8 (byte 0xff at column 7)"]

    def test_non_utf8_file_is_reported_per_line(self) -> None:
        data = '{"a":"é"}\n{"a":"é"}\n'.encode("latin-1")
        assert rendered(data, "ndjson") == [
            "line 1: not valid UTF-8 (byte 0xe9 at column 7)",
            "line 2: not valid UTF-8 (byte 0xe9 at column 7)",
        ]

    def test_empty_input_has_no_records(self) -> None:
        decoded = decode_records(b"", "ndjson")
        assert decoded.records == [] and decoded.errors == []


class TestJsonArray:
    def test_elements_are_numbered_from_one(self) -> None:
        decoded = decode_records(b'[{"a":1}, 2, null]', Format.JSON)
        assert decoded.records == [(1, {"a": 1}), (2, 2), (3, None)]

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b'{"a":1}', "must be a JSON array of objects, not an object"),
            (b"", "invalid JSON: Input data was truncated"),
            (b"[1,", "invalid JSON: Input data was truncated"),
            (b'["\xff"]', "not valid UTF-8 (byte 0xff at offset 2)"),
        ],
    )
    def test_a_batch_that_does_not_decode_is_one_error(self, data: bytes, message: str) -> None:
        assert rendered(data, "json") == [message]


class TestCsv:
    def test_events_columns_are_typed_and_header_is_line_one(self) -> None:
        data = (
            b"tweet_id,type,at,count\n"
            b"20,favorites,2026-11-26T10:00:00Z,\n"
            b"\n"
            b" 21 ,retweets,2026-11-26T10:00:00Z,-2\n"
            b"22,impressions,2026-11-26T10:00:00Z,3.5\n"
        )
        decoded = decode_records(data, "csv", Kind.EVENTS)
        assert decoded.errors == []
        assert decoded.records == [
            (2, {"tweet_id": "20", "type": "favorites", "at": "2026-11-26T10:00:00Z"}),
            (4, {"tweet_id": "21", "type": "retweets", "at": "2026-11-26T10:00:00Z", "count": -2}),
            (
                5,
                {
                    "tweet_id": "22",
                    "type": "impressions",
                    "at": "2026-11-26T10:00:00Z",
                    "count": "3.5",
                },
            ),
        ]

    def test_tweets_columns(self) -> None:
        data = (
            b"id,author_id,created_at,protected,deleted,media,extra\n"
            b"1,42,2026-11-20T08:15:00Z,TRUE,0,video:7_1|photo:3_9,x\n"
            b"2,42,2026-11-20T08:15:00Z,,,none,\n"
            b"3,42,2026-11-20T08:15:00Z,yes,,,\n"
        )
        decoded = decode_records(data, "csv", "tweets")
        assert decoded.errors == []
        first, second, third = (value for _, value in decoded.records)
        assert first == {
            "id": "1",
            "author_id": "42",
            "created_at": "2026-11-20T08:15:00Z",
            "protected": True,
            "deleted": False,
            "media": [{"media_key": "7_1", "type": "video"}, {"media_key": "3_9", "type": "photo"}],
        }
        assert second == {
            "id": "2",
            "author_id": "42",
            "created_at": "2026-11-20T08:15:00Z",
            "media": [],
        }
        assert isinstance(third, dict) and third["protected"] == "yes"

    def test_users_columns_and_bom(self) -> None:
        data = b"\xef\xbb\xbfId , Handle\r\n42,alice\r\n"
        assert decode_records(data, "csv", "users").records == [
            (2, {"id": "42", "handle": "alice"})
        ]

    @pytest.mark.parametrize(
        ("header", "kind"),
        [
            ("tweet_id,type,at", Kind.EVENTS),
            ("id,author_id,created_at", Kind.TWEETS),
            ("id,handle", Kind.USERS),
        ],
    )
    def test_kind_from_header(self, header: str, kind: Kind) -> None:
        data = f"{header}\n1,2,3\n".encode()
        inferred = decode_records(data, "csv").records
        assert inferred == decode_records(data, "csv", kind).records

    def test_quoted_cells_may_span_lines(self) -> None:
        data = b'id,handle\n1,"a\nb"\n2,c\n'
        assert decode_records(data, "csv", "users").records == [
            (2, {"id": "1", "handle": "a\nb"}),
            (4, {"id": "2", "handle": "c"}),
        ]

    @pytest.mark.parametrize(
        ("data", "kind", "messages"),
        [
            (
                b"tweet_id,type\n1,favorites\n",
                Kind.EVENTS,
                ["line 1: the header lacks column(s) at of events"],
            ),
            (
                b"a,b\n1,2\n",
                None,
                ["line 1: the header names no tweet_id, author_id or handle column"],
            ),
            (b"id,handle,id\n1,a,1\n", Kind.USERS, ["line 1: the header repeats column(s) id"]),
            (
                b"id,handle\n1,a,3\n2\n",
                Kind.USERS,
                ["line 2: has 3 cells, the header has 2", "line 3: has 1 cells, the header has 2"],
            ),
            (
                b"id,author_id,created_at,media\n1,2,3,video\n",
                Kind.TWEETS,
                ['line 2: media "video": each item must be type:media_key, items separated by |'],
            ),
            (
                b"id,handle\n1,ok\n2,\xe9t\xe9\n",
                Kind.USERS,
                ["line 3: not valid UTF-8 (byte 0xe9 at column 3)"],
            ),
            (b'id,handle\n1,"a"b\n', Kind.USERS, ["line 2: invalid CSV: ',' expected after '\"'"]),
        ],
    )
    def test_bad_csv(self, data: bytes, kind: Kind | None, messages: list[str]) -> None:
        assert rendered(data, "csv", kind) == messages

    def test_rows_of_empty_cells_are_blank(self) -> None:
        assert decode_records(b"id,handle\n,\n , \n", "csv", "users").records == []
