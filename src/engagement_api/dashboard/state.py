"""What the dashboard's routes share: settings, store, sessions and the read road."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from engagement_api.service.dashboard import DashboardReader
from engagement_api.service.metering import Meter
from engagement_api.service.reading import EngagementReader
from engagement_api.service.sessions import Sessions
from engagement_api.settings import Settings
from engagement_api.store.protocols import Store


@dataclass(frozen=True)
class DashboardState:
    settings: Settings
    store: Store
    sessions: Sessions
    reader: DashboardReader
    meter: Meter

    @classmethod
    def build(cls, settings: Settings, store: Store, reader: EngagementReader) -> DashboardState:
        """``reader``: the API's own, so a page reads exactly as the API answers."""
        return cls(
            settings=settings,
            store=store,
            sessions=Sessions(store, settings),
            reader=DashboardReader(reader, store),
            meter=Meter(store, store),
        )


def dashboard_of(request: Request) -> DashboardState:
    state: DashboardState = request.app.state.dashboard
    return state
