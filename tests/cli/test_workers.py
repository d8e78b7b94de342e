"""The sockets of ``serve --workers N`` (engagement_api/cli/workers.py): one per worker on one
port, and a port that anything else holds refused before any is bound."""

from __future__ import annotations

import errno
import select
import socket

import pytest

from engagement_api.cli import workers

pytestmark = pytest.mark.skipif(not workers.available(), reason="SO_REUSEPORT is Linux's here")


def test_every_socket_takes_the_same_port_and_connections_reach_them() -> None:
    sockets = workers.bind_sockets("127.0.0.1", 0, 3)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(ports) == 1 and ports != {0}
        for s in sockets:
            s.listen(16)
        port = ports.pop()
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]
        ready, _, _ = select.select(sockets, [], [], 5)
        assert ready  # the connections queue on the group's sockets, one each
        accepted = 0
        for s in sockets:
            s.setblocking(False)
            while True:
                try:
                    conn, _ = s.accept()
                except BlockingIOError:
                    break
                conn.close()
                accepted += 1
        assert accepted == 12
        for c in clients:
            c.close()
    finally:
        for s in sockets:
            s.close()


def test_a_port_in_use_is_refused_before_any_socket_is_bound() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError) as raised:
            workers.bind_sockets("127.0.0.1", port, 2)
        assert raised.value.errno == errno.EADDRINUSE
    group = workers.bind_sockets("127.0.0.1", 0, 2)  # another server's: refused all the same
    try:
        for s in group:
            s.listen()
        with pytest.raises(OSError) as raised:
            workers.bind_sockets("127.0.0.1", group[0].getsockname()[1], 2)
        assert raised.value.errno == errno.EADDRINUSE
    finally:
        for s in group:
            s.close()
