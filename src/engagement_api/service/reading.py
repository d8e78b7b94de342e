"""The read road: contract (parse) -> policy -> store (one query for the counts) -> contract
(build the grouped, zero-filled tree, written as JSON directly). Used by the HTTP routes; no
HTTP in here.

Per request: the Posts' facts (no media) and their counts (``lifetime``: totals and video
views; ``hourly``: the window's rows) read together where one database holds both (one round
trip: :class:`~engagement_api.store.protocols.OneDatabaseReads`), else the facts in one
statement, then the counts of the Posts the policy lets through; then the
answer's JSON bytes (:func:`~engagement_api.contract.response_json.render_json`, byte for byte
what encoding :func:`~engagement_api.contract.response.render`'s dict would give).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, itemgetter

from engagement_api.contract.metrics import Endpoint
from engagement_api.contract.policy import Decision, PostFacts, decide
from engagement_api.contract.request import EngagementRequest, parse_request
from engagement_api.contract.response import render
from engagement_api.contract.response_json import render_json
from engagement_api.settings import Settings
from engagement_api.store.protocols import (
    Admitted,
    CatalogStore,
    CounterStore,
    OneDatabaseReads,
    Wanted,
)
from engagement_api.store.rows import ZERO_ROW

_AUTHOR = attrgetter("author_id")


@dataclass(frozen=True, slots=True)
class Answer:
    json: bytes  # the response body
    authors: frozenset[int]  # of the requested Posts that exist (deleted, protected included)


@dataclass(frozen=True, slots=True)
class _Counts:
    """What an answer is rendered from."""

    decision: Decision
    lifetime: list[list[int]] | None  # /totals: per asked metric, per Post of the decision
    hourly: list[tuple[int, int, int, int]] | None  # windowed: (Post, metric code, hour, count)
    authors: frozenset[int]


class EngagementReader:
    """Answers the three read endpoints for an authenticated caller."""

    def __init__(self, catalog: CatalogStore, counters: CounterStore, settings: Settings) -> None:
        self.catalog = catalog
        self.counters = counters
        self.settings = settings
        # one store holding both: the Posts read with their counts (OneDatabaseReads)
        both: object = catalog
        self._together = both if both is counters and isinstance(both, OneDatabaseReads) else None

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
        hourly = None
        if counts.hourly is not None:
            by_code = {m.metric.code: m.metric.name for m in request.metrics}
            hourly = [(pid, by_code[code], hour, n) for pid, code, hour, n in counts.hourly]
        return render(request, counts.decision, totals, hourly)

    def respond(self, request: EngagementRequest, user_id: int | None) -> Answer:
        """The response body as JSON, and the authors of the requested Posts that exist (the
        caller meters usage with them without reading the Posts again)."""
        counts = self._counts(request, user_id)
        body = render_json(request, counts.decision, None, None, counts.lifetime, counts.hourly)
        return Answer(body, counts.authors)

    def wanted(self, request: EngagementRequest) -> Wanted:
        """What the store reads for ``request`` (the Posts, their counts of the metrics asked,
        in its window if it has one)."""
        codes = sorted({m.metric.code for m in request.metrics})
        window = request.window
        hours = None if window is None else (window.start_hour, window.end_hour)
        return Wanted(request.post_ids, codes, hours)

    def respond_read(
        self, request: EngagementRequest, user_id: int | None, read: Admitted
    ) -> Answer:
        """:meth:`respond`, from what the store read of :meth:`wanted` with the request's
        admission (``AdmittingStore.admit_and_read``)."""
        hours = None if request.window is None else read.hourly
        counts = self._decided(request, user_id, read.facts, read.lifetime, hours)
        body = render_json(request, counts.decision, None, None, counts.lifetime, counts.hourly)
        return Answer(body, counts.authors)

    def _counts(self, request: EngagementRequest, user_id: int | None) -> _Counts:
        wanted = self.wanted(request)
        together = self._together
        if together is None:  # the counts of the Posts the policy lets through, after it
            return self._decided(request, user_id, self.catalog.post_facts(request.post_ids))
        if wanted.hours is None:
            facts, rows = together.facts_and_lifetime(wanted.post_ids, wanted.metric_codes)
            return self._decided(request, user_id, facts, rows)
        facts, hours = together.facts_and_hourly(
            wanted.post_ids, wanted.metric_codes, *wanted.hours
        )
        return self._decided(request, user_id, facts, None, hours)

    def _decided(
        self,
        request: EngagementRequest,
        user_id: int | None,
        facts: Mapping[int, PostFacts],
        rows: Mapping[int, Sequence[int]] | None = None,
        hours: list[tuple[int, int, int, int]] | None = None,
    ) -> _Counts:
        """The policy's decision on the Posts' ``facts``, and the counts to render: from the
        Posts' lifetime ``rows`` or their ``hours`` when read with the facts, else read now
        (of the Posts the decision lets through)."""
        authors = frozenset(map(_AUTHOR, facts.values()))
        decision = decide(request, user_id, facts, self.settings.clock.now())
        window = request.window
        if window is None:
            if rows is None:
                codes = sorted({m.metric.code for m in request.metrics})
                columns = self.counters.lifetime_columns(decision.post_ids, codes)
                of_code = dict(zip(codes, columns, strict=True))
                lifetime = [of_code[m.metric.code] for m in request.metrics]
            else:  # each asked metric's column picked from the Posts' rows, in C
                got = list(map(rows.get, decision.post_ids, repeat(ZERO_ROW)))
                lifetime = [list(map(itemgetter(m.metric.code), got)) for m in request.metrics]
            return _Counts(decision, lifetime, None, authors)
        if hours is None:
            codes = sorted({m.metric.code for m in request.metrics})
            hours = self.counters.hourly(
                decision.post_ids, codes, window.start_hour, window.end_hour
            )
        return _Counts(decision, None, hours, authors)
