"""Retries: which answers are retried, the backoff and jitter, x-per-minute-reset, the bounds."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from engagement_api.client import (
    NO_RETRY,
    ApiError,
    AuthenticationError,
    EngagementClient,
    ForbiddenError,
    OAuth1User,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    TransportError,
    ValidationError,
)
from tests.client.fake import FakeServer, FakeTime, error
from tests.support import NOW

POST = 10**18


@pytest.fixture(autouse=True)
def one_post(fake: FakeServer) -> None:
    fake.available = {POST}


def _refused(message: str = "boom") -> httpx.ConnectError:
    return httpx.ConnectError(message)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_faults_are_retried_with_exponential_backoff(
    status: int,
    make_client: Callable[..., EngagementClient],
    fake: FakeServer,
    fake_time: FakeTime,
) -> None:
    fake.script = [error(status, "fault")] * 3
    result = make_client().totals([POST], ["favorites"])
    assert result["perTweet"] == {str(POST): {"favorites": "0"}}
    # random() == 0: the n-th wait is half of min(30, 0.5 * 2**(n-1))
    assert fake_time.sleeps == [0.25, 0.5, 1.0]


def test_jitter_spreads_the_wait_up_to_the_full_backoff(
    make_client: Callable[..., EngagementClient], fake: FakeServer, fake_time: FakeTime
) -> None:
    fake.script = [error(503, "x")] * 4
    make_client(random=lambda: 1.0, retry=RetryPolicy(backoff_base=1, backoff_max=5)).totals(
        [POST], ["favorites"]
    )
    assert fake_time.sleeps == [1.0, 2.0, 4.0, 5.0]  # capped at backoff_max


def test_connection_errors_are_retried(
    make_client: Callable[..., EngagementClient], fake: FakeServer, fake_time: FakeTime
) -> None:
    fake.script = [_refused(), httpx.ReadError("reset")]
    assert make_client().totals([POST], ["favorites"]).requests == 1
    assert len(fake_time.sleeps) == 2


def test_attempts_are_bounded(
    make_client: Callable[..., EngagementClient], fake: FakeServer, fake_time: FakeTime
) -> None:
    fake.script = [error(500, "fault")] * 10
    with pytest.raises(ServerError) as caught:
        make_client(retry=RetryPolicy(max_attempts=3)).totals([POST], ["favorites"])
    assert caught.value.status_code == 500 and caught.value.messages == ["fault"]
    assert len(fake_time.sleeps) == 2 and len(fake.script) == 7


def test_transport_error_after_the_last_attempt(
    make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    fake.script = [_refused("no route")] * 5
    with pytest.raises(TransportError, match="no route") as caught:
        make_client().totals([POST], ["favorites"])
    assert isinstance(caught.value.cause, httpx.ConnectError)


def test_total_time_is_bounded(
    make_client: Callable[..., EngagementClient], fake: FakeServer, fake_time: FakeTime
) -> None:
    fake.script = [error(503, "x")] * 10
    policy = RetryPolicy(max_attempts=10, backoff_base=1, max_total=3.0)
    with pytest.raises(ServerError):
        make_client(retry=policy).totals([POST], ["favorites"])
    # waits of 0.5 and 1.0 fit in 3 s; the next (2.0) would end at 3.5: given up instead
    assert fake_time.sleeps == [0.5, 1.0]


def test_429_waits_until_the_minute_resets(
    make_client: Callable[..., EngagementClient], fake: FakeServer, fake_time: FakeTime
) -> None:
    reset = int(NOW.timestamp()) + 42
    fake.script = [error(429, "Exceeded rate limit", headers={"x-per-minute-reset": str(reset)})]
    make_client(random=lambda: 0.5).totals([POST], ["favorites"])
    assert fake_time.sleeps == [pytest.approx(42 + 0.25)]  # plus half of backoff_base of jitter


def test_429_without_reset_header_backs_off(
    make_client: Callable[..., EngagementClient], fake: FakeServer, fake_time: FakeTime
) -> None:
    fake.script = [error(429, "Exceeded rate limit")] * 2
    make_client().totals([POST], ["favorites"])
    assert fake_time.sleeps == [0.25, 0.5]


def test_429_reset_beyond_the_time_budget_raises(
    make_client: Callable[..., EngagementClient], fake: FakeServer, fake_time: FakeTime
) -> None:
    reset = int(NOW.timestamp()) + 600
    fake.script = [error(429, "Exceeded rate limit", headers={"x-per-minute-reset": str(reset)})]
    with pytest.raises(RateLimitedError) as caught:
        make_client().totals([POST], ["favorites"])
    assert caught.value.reset == reset
    assert fake_time.sleeps == []


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (403, ForbiddenError),
        (404, ApiError),
        (413, ApiError),
        (501, ServerError),
    ],
)
def test_other_errors_are_not_retried(
    status: int,
    kind: type[ApiError],
    make_client: Callable[..., EngagementClient],
    fake: FakeServer,
    fake_time: FakeTime,
) -> None:
    fake.script = [error(status, "no", "really")]
    with pytest.raises(kind) as caught:
        make_client().totals([POST], ["favorites"])
    assert type(caught.value) is kind
    assert caught.value.messages == ["no", "really"]
    assert fake_time.sleeps == []


def test_an_error_body_that_is_not_json(
    make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    fake.script = [httpx.Response(502, text="Bad Gateway")]
    with pytest.raises(ServerError, match="Bad Gateway"):
        make_client(retry=NO_RETRY).totals([POST], ["favorites"])


def test_each_retry_is_signed_afresh(
    make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    headers: list[str] = []
    fake.on_request = lambda request: headers.append(request.headers["Authorization"])
    fake.script = [error(503, "x")]
    make_client(auth=OAuth1User("ck", "cs", "tk", "ts")).totals([POST], ["favorites"])
    assert len(headers) == 2 and headers[0] != headers[1]  # a new nonce each time


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(max_total=-1)
