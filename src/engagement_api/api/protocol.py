"""The HTTP protocol `serve` hands to uvicorn: uvicorn's own, with TCP_NODELAY on every
connection.

With ``--workers`` above 1 uvicorn binds the listening socket itself without naming
``IPPROTO_TCP``, so asyncio does not set TCP_NODELAY on accepted connections, and every small
response waits for the client's delayed ACK (about 40 ms). Setting it per connection makes
latency the same with one worker or several.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


# AutoHTTPProtocol is a variable (whichever protocol class uvicorn found at import), not a class
# mypy can subclass.
class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):  # the connection may already be gone
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
