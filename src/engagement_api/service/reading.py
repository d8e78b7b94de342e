"""The read road: contract (parse) -> policy -> store (one query for the counts) -> contract
(build the grouped, zero-filled tree, written as JSON directly). Used by the HTTP routes; no
HTTP in here.

Per request: the Posts' facts in one statement (no media), then their counts in one statement
per table (``lifetime``: totals and video views; ``hourly``: the window's rows), then the
answer's JSON bytes (:func:`~engagement_api.contract.response_json.render_json`, byte for byte
what encoding :func:`~engagement_api.contract.response.render`'s dict would give).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter, itemgetter

from engagement_api.contract.metrics import Endpoint
from engagement_api.contract.policy import Decision, decide
from engagement_api.contract.request import EngagementRequest, parse_request
from engagement_api.contract.response import render
from engagement_api.contract.response_json import render_json
from engagement_api.settings import Settings
from engagement_api.store.protocols import CatalogStore, CounterStore

_AUTHOR = attrgetter("author_id")
_POST, _CODE, _HOUR, _COUNT = (itemgetter(i) for i in range(4))  # of an hourly row


@dataclass(frozen=True, slots=True)
class Answer:
    json: bytes  # the response body
    authors: frozenset[int]  # of the requested Posts that exist (deleted, protected included)


@dataclass(frozen=True, slots=True)
class _Counts:
    """What an answer is rendered from."""

    decision: Decision
    lifetime: list[list[int]] | None  # /totals: per asked metric, per Post of the decision
    hourly: Iterable[tuple[int, str, int, int]] | None  # the windowed endpoints
    authors: frozenset[int]


class EngagementReader:
    """Answers the three read endpoints for an authenticated caller."""

    def __init__(self, catalog: CatalogStore, counters: CounterStore, settings: Settings) -> None:
        self.catalog = catalog
        self.counters = counters
        self.settings = settings

    def parse(self, endpoint: Endpoint, body: bytes) -> EngagementRequest:
        return parse_request(
            endpoint,
            body,
            self.settings.clock.now(),
            lookback_days=self.settings.historical_lookback_days,
        )

    def answer(self, request: EngagementRequest, user_id: int | None) -> dict[str, object]:
        """The response body as a dict (what :meth:`respond` sends, decoded); raises
        Forbidden/BadRequest from policy."""
        counts = self._counts(request, user_id)
        totals = None
        if counts.lifetime is not None:
            totals = {
                (pid, asked.metric.name): count
                for asked, column in zip(request.metrics, counts.lifetime, strict=True)
                for pid, count in zip(counts.decision.post_ids, column, strict=True)
            }
        return render(request, counts.decision, totals, counts.hourly)

    def respond(self, request: EngagementRequest, user_id: int | None) -> Answer:
        """The response body as JSON, and the authors of the requested Posts that exist (the
        caller meters usage with them without reading the Posts again)."""
        counts = self._counts(request, user_id)
        body = render_json(request, counts.decision, None, counts.hourly, counts.lifetime)
        return Answer(body, counts.authors)

    def _counts(self, request: EngagementRequest, user_id: int | None) -> _Counts:
        now = self.settings.clock.now()
        facts = self.catalog.post_facts(request.post_ids)
        authors = frozenset(map(_AUTHOR, facts.values()))
        decision = decide(request, user_id, facts, now)
        codes = sorted({m.metric.code for m in request.metrics})
        if request.window is None:
            columns = self.counters.lifetime_columns(decision.post_ids, codes)
            of_code = dict(zip(codes, columns, strict=True))
            lifetime = [of_code[m.metric.code] for m in request.metrics]
            return _Counts(decision, lifetime, None, authors)
        window = request.window
        rows = self.counters.hourly(decision.post_ids, codes, window.start_hour, window.end_hour)
        by_code = {m.metric.code: m.metric.name for m in request.metrics}
        names = map(by_code.__getitem__, map(_CODE, rows))  # each column in C
        hourly = list(
            zip(map(_POST, rows), names, map(_HOUR, rows), map(_COUNT, rows), strict=True)
        )
        return _Counts(decision, None, hourly, authors)
