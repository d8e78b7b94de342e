"""engagement-api: a self-hostable server for the Engagement API contract, with its own ingest."""

__version__ = "0.1.0"
