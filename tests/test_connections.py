"""Idle and slow connections cannot hold up Slack: many idle sockets, and many that drip a request a byte at a
time, then a signed command is still answered; a dripping connection is closed at the request deadline.

Real sockets on 127.0.0.1 against the real server. No timing is asserted beyond "before the idle
connections are dropped": the idle and slow sockets are checked to be still open when the answer comes.
(bench/ack_latency.py measures the ack's time.)
"""

import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from bot.entry.server import CONNECTION_LIMIT, make_server
from tests.harness import Harness, close_server, serve_until_closed

IDLE = 150
MANY = 500


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


@contextmanager
def slow_sockets(port: int, count: int) -> Iterator[list[socket.socket]]:
    """`count` connections each in the middle of a request's headers, as a client dripping them would be."""
    with idle_sockets(port, count) as socks:
        for sock in socks:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: intake.example.com\r\nX-Slow: ")
        yield socks


def test_a_command_is_answered_while_500_connections_sit_idle_and_500_drip(harness: Harness) -> None:
    """More than the old limit of 500 open connections: the listen queue would have held the command until the idle
    ones were dropped; the slow ones are inside a request the idle timeout alone would never end."""
    port = int(harness.url.rsplit(":", 1)[1])
    assert 2 * MANY < CONNECTION_LIMIT
    with idle_sockets(port, MANY) as idle, slow_sockets(port, MANY) as slow:
        for sock in slow:
            sock.sendall(b"a")  # a drip
        reply = harness.command("regression: refund window wrong")
        assert reply.status == 200 and "AIR-1" in reply.body
        assert all(still_open(s) for s in idle + slow)  # answered before any of them was dropped


def test_a_connection_that_drips_its_request_is_closed_at_the_deadline(harness: Harness) -> None:
    """Each drip is activity, so the idle timeout (a minute here) never comes; the request deadline (1 s) does."""
    server = make_server(harness.bot, host="127.0.0.1", port=0, idle_timeout=60, request_deadline=1)
    thread = threading.Thread(target=serve_until_closed, args=(server,), daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.effective_port), timeout=20) as sock:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: intake.example.com\r\nX-Slow: ")
            sock.settimeout(0.1)
            closed = False
            for _ in range(200):  # a drip every 0.1 s (while waiting for the server to close), for at most 20 s
                try:
                    closed = sock.recv(1) == b""
                except TimeoutError:
                    pass
                except OSError:
                    closed = True
                if closed:
                    break
                try:
                    sock.sendall(b"a")
                except OSError:
                    closed = True
                    break
            assert closed, "the dripping connection was never closed"
    finally:
        close_server(server, thread)


def test_an_idle_connection_is_closed_after_the_idle_timeout(harness: Harness) -> None:
    server = make_server(harness.bot, host="127.0.0.1", port=0, idle_timeout=1)
    thread = threading.Thread(target=serve_until_closed, args=(server,), daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.effective_port), timeout=20) as sock:
            assert sock.recv(1) == b""  # the server closed it (a recv that waited 20 s would raise)
    finally:
        close_server(server, thread)


def test_the_security_page_gives_the_limits_and_a_reverse_proxy() -> None:
    from bot.entry.server import IDLE_TIMEOUT_SECONDS, MAX_BODY_BYTES
    from tests.test_security_docs import SECURITY

    assert f"| open connections | {CONNECTION_LIMIT} (`CONNECTION_LIMIT`" in SECURITY
    assert f"closed after {IDLE_TIMEOUT_SECONDS} s with no request in flight" in SECURITY
    assert MAX_BODY_BYTES == 1024 * 1024 and "| a request's body | 1 MiB (`MAX_BODY_BYTES`" in SECURITY
    assert "## Run it behind a reverse proxy" in SECURITY and "reverse_proxy /slack/events 127.0.0.1:3000" in SECURITY
