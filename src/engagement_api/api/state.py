"""What the routes share: settings, store, authenticator, reader, loader, meter."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from engagement_api.api.logging import LoggingAuthenticator
from engagement_api.auth import Authenticator
from engagement_api.service.loading import Loader
from engagement_api.service.metering import Meter
from engagement_api.service.reading import EngagementReader
from engagement_api.settings import Settings
from engagement_api.store.protocols import AdmittingStore, Store


@dataclass(frozen=True)
class AppState:
    settings: Settings
    store: Store
    authenticator: Authenticator
    reader: EngagementReader
    loader: Loader
    meter: Meter
    #: The store, when it admits a read request and reads for it in one call.
    admitting: AdmittingStore | None = None

    @classmethod
    def build(cls, settings: Settings, store: Store) -> AppState:
        return cls(
            settings=settings,
            store=store,
            authenticator=LoggingAuthenticator(
                store, settings.oauth_clock, timestamp_window=settings.timestamp_window
            ),
            reader=EngagementReader(store, store, settings),
            loader=Loader(store, store, settings.clock),
            meter=Meter(store, store),
            admitting=store if isinstance(store, AdmittingStore) else None,
        )


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.engagement
    return state
