"""The one exception tree, each carrying its HTTP status and the contract's messages.

The API maps every :class:`ApiError` to ``{"errors": [...]}`` with its status in one handler;
the CLI prints the same messages. Nothing else decides a status code.

    ApiError
    ├── BadRequest            400  (validation: every problem listed)
    ├── Unauthorized          401  Your account could not be authenticated. Reason: <why>
    ├── Forbidden             403
    ├── NotFound              404
    ├── MethodNotAllowed      405
    ├── Conflict              409  (an idempotency key reused with another body)
    ├── PayloadTooLarge       413
    ├── RateLimited           429  Exceeded rate limit
    ├── InternalError         500  Internal server error (anything unexpected; never a traceback)
    └── ServiceUnavailable    503  Store unavailable
"""

from __future__ import annotations

from collections.abc import Sequence


class ApiError(Exception):
    status = 500

    def __init__(self, messages: str | Sequence[str]) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("; ".join(self.messages))


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Your account could not be authenticated. Reason: {reason}")


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class RateLimited(ApiError):
    status = 429

    def __init__(self) -> None:
        super().__init__("Exceeded rate limit")


class ServiceUnavailable(ApiError):
    status = 503

    def __init__(self, message: str = "Store unavailable") -> None:
        super().__init__(message)


class BadGateway(ApiError):
    """What a proxy in front answers when the server behind it fails; this server sends it only
    as a stand-in fault (``X-Standin-Fault: 502``)."""

    status = 502

    def __init__(self, message: str = "Bad gateway") -> None:
        super().__init__(message)


class InternalError(ApiError):
    status = 500

    def __init__(self) -> None:
        super().__init__("Internal server error")
