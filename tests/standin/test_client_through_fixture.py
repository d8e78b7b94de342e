"""Our own client's retries, rate-limit handling and unowned IDs, tested through the
``engagement_standin`` fixture only (as a user of the package would): one test per fault kind."""

from __future__ import annotations

import pytest

from engagement_api.client import (
    ForbiddenError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from engagement_api.client.errors import EngagementError
from engagement_api.testing.standin import Standin

#: Quick retries: 3 sendings, waits of a few milliseconds.
QUICK = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02, max_total=30)
RAISED: dict[str, type[EngagementError]] = {
    "429": RateLimitedError,
    "500": ServerError,
    "502": ServerError,
    "503": ServerError,
    "timeout": TransportError,
    "reset": TransportError,
}
TYPES = ["favorites", "retweets", "impressions"]


@pytest.mark.parametrize("fault", list(RAISED))
def test_the_client_retries_each_fault_then_gives_up(
    engagement_standin: Standin, fault: str
) -> None:
    s = engagement_standin
    owned = s.post_ids["owned"]
    # timeout: the stand-in would hold the answer 30 s; the client gives up after 0.5 s
    with s.client(retry=QUICK, timeout=0.5) as client:
        expected = client.totals(owned, TYPES).data
        s.clear_requests()
        s.fault_next(2, fault)
        assert client.totals(owned, TYPES).data == expected  # the third sending got through
        log = s.requests()
        assert [r["fault"] for r in log] == [fault, fault, None]
        assert log[-1]["status"] == 200
        assert all(r["auth"] == "oauth_user" and r["app"] == s.consumer_key for r in log)

        s.clear_requests()
        s.fault_every(1, fault)
        with pytest.raises(RAISED[fault]) as raised:
            client.totals(owned, TYPES)
        assert len(s.requests()) == QUICK.max_attempts
    if fault == "429":
        error = raised.value
        assert isinstance(error, RateLimitedError)
        assert error.reset == s.now.timestamp() + 60  # the data clock's next minute


def test_the_client_drops_unowned_ids_when_asked(engagement_standin: Standin) -> None:
    s = engagement_standin
    owned, unowned = s.post_ids["owned"][:3], s.post_ids["unowned"][:2]
    with s.client(retry=QUICK) as client:
        with pytest.raises(ForbiddenError) as refused:
            client.last_28_hours(owned + unowned, ["favorites"])
        assert sorted(refused.value.forbidden_tweet_ids) == sorted(unowned)
        result = client.last_28_hours(owned + unowned, ["favorites"], drop_unowned=True)
    assert sorted(result.dropped_tweet_ids) == sorted(unowned, key=int)
    assert {row.post_id for row in result.rows()} == set(owned)
    statuses = [r["status"] for r in s.requests()]
    assert statuses == [403, 403, 200]  # the refused request, again, then without the unowned
