"""The read road: contract (parse) -> policy -> store (one query for the counts) -> contract
(build the grouped, zero-filled tree). Used by the HTTP routes; no HTTP in here."""

from __future__ import annotations

from dataclasses import dataclass

from engagement_api.contract.metrics import BY_CODE, Endpoint
from engagement_api.contract.policy import Decision, decide
from engagement_api.contract.request import EngagementRequest, parse_request
from engagement_api.contract.response import render
from engagement_api.settings import Settings
from engagement_api.store.protocols import CatalogStore, CounterStore


@dataclass(frozen=True, slots=True)
class Answer:
    body: dict[str, object]
    authors: frozenset[int]  # of the requested Posts that exist (deleted, protected included)


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
        """The response body for a parsed request; raises Forbidden/BadRequest from policy."""
        return self.respond(request, user_id).body

    def respond(self, request: EngagementRequest, user_id: int | None) -> Answer:
        """The response body, and the authors of the requested Posts that exist (the caller
        meters usage with them without reading the Posts again)."""
        now = self.settings.clock.now()
        facts = self.catalog.post_facts(request.post_ids)
        authors = frozenset(f.author_id for f in facts.values())
        decision = decide(request, user_id, facts, now)
        codes = sorted({m.metric.code for m in request.metrics})
        if request.window is None:
            return Answer(render(request, decision, self._totals(decision, codes), None), authors)
        window = request.window
        rows = self.counters.hourly(decision.post_ids, codes, window.start_hour, window.end_hour)
        by_code = {m.metric.code: m.metric.name for m in request.metrics}
        hourly = ((pid, by_code[code], hour, count) for pid, code, hour, count in rows)
        return Answer(render(request, decision, None, hourly), authors)

    def _totals(self, decision: Decision, codes: list[int]) -> dict[tuple[int, str], int]:
        raw = self.counters.lifetime(list(decision.post_ids), codes)
        return {(pid, BY_CODE[code].name): count for (pid, code), count in raw.items()}
