"""Idle connections cannot hold up Slack: many idle sockets, then a signed command is still answered.

Real sockets on 127.0.0.1 against the real server. No timing is asserted beyond "before the idle
connections are dropped": the idle sockets are checked to be still open when the answer comes.
"""

import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from bot.server import CONNECTION_LIMIT, make_server
from tests.harness import Harness, serve_until_closed

IDLE = 150


def still_open(sock: socket.socket) -> bool:
    """The server has not closed `sock` (nothing to read yet, no end of stream)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


@contextmanager
def idle_sockets(port: int, count: int) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        yield [stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10)) for _ in range(count)]


def test_a_command_is_answered_while_many_connections_sit_idle(harness: Harness) -> None:
    assert IDLE < CONNECTION_LIMIT
    port = int(harness.url.rsplit(":", 1)[1])
    with idle_sockets(port, IDLE) as idle:
        reply = harness.command("regression: refund window wrong")
        assert reply.status == 200 and "AIR-1" in reply.body
        assert all(still_open(s) for s in idle)  # answered before the idle ones were dropped


def test_an_idle_connection_is_closed_after_the_idle_timeout(harness: Harness) -> None:
    server = make_server(harness.bot, host="127.0.0.1", port=0, loop_timeout=0.05, idle_timeout=1)
    thread = threading.Thread(target=serve_until_closed, args=(server,), daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.effective_port), timeout=20) as sock:
            assert sock.recv(1) == b""  # the server closed it (a recv that waited 20 s would raise)
    finally:
        server.close()
        thread.join(timeout=5)


def test_the_security_page_gives_the_limits_and_a_reverse_proxy() -> None:
    from bot.server import IDLE_TIMEOUT_SECONDS, MAX_BODY_BYTES
    from tests.test_docs import DOCS

    security = (DOCS / "security.md").read_text()
    assert f"| open connections | {CONNECTION_LIMIT} (`CONNECTION_LIMIT`)" in security
    assert f"closed after {IDLE_TIMEOUT_SECONDS} s with no request in flight" in security
    assert MAX_BODY_BYTES == 1024 * 1024 and "| a request's body | 1 MiB (`MAX_BODY_BYTES`" in security
    assert "## Run it behind a reverse proxy" in security and "reverse_proxy /slack/events 127.0.0.1:3000" in security
