"""The web application: a factory and thin route modules calling the layers below."""

from engagement_api.api.app import create_app

__all__ = ["create_app"]
