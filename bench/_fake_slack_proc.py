"""tests/fake_slack.py served from its own process, for the benchmarks (not a benchmark itself).

    python bench/_fake_slack_proc.py --latency 0.3

Prints {"url": ...}; then answers JSON lines on stdin: {"op": "latency", "seconds": 0},
{"op": "response_urls", "n": 10} (fresh response_urls), {"op": "messages", "channel": "C…", "n": 10,
"user": "U…", "text": "…"} (seed messages people wrote; answers their ts), {"op": "stats"},
{"op": "card_ts"} (each card's ts by request id), {"op": "updates", "since": k} (the chat.update calls that
succeeded, from the k-th: monotonic time and ts), {"op": "stop"}. Stats: calls per method, contract violations, the fake's own handling time per call
(validation and bookkeeping, without the injected latency), its CPU seconds, and when each card was
posted (monotonic clock, which is system-wide on Linux, so comparable with the benchmark's).
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import cpu_seconds, serve_stdin  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402

KEY = re.compile(r"AIR-(\d+)")


def quiet_hangups(server: Any) -> None:
    """A bot process that ends while its call is in flight is expected here: do not print that."""
    report = server.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            report(request, client_address)

    server.handle_error = handle_error


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    fake = FakeSlack().start()
    fake.latency = args.latency
    quiet_hangups(fake._server)
    lock = threading.Lock()
    handling: list[float] = []
    cards: list[tuple[float, int]] = []
    card_ts: dict[int, str] = {}
    updates: list[tuple[float, str]] = []
    original = fake.handle

    def timed(request: Any) -> Any:
        t0 = time.perf_counter()
        answer = original(request)
        t1 = time.perf_counter()
        with lock:
            handling.append(t1 - t0)
            if request.path == "/api/chat.postMessage" and answer[0] == 200 and answer[2].get("ok"):
                message = answer[2].get("message") or {}
                found = KEY.search(message.get("text") or "")
                if found and not message.get("thread_ts"):
                    cards.append((time.monotonic(), int(found.group(1))))
                    card_ts[int(found.group(1))] = str(answer[2].get("ts"))
            if request.path == "/api/chat.update" and answer[0] == 200 and answer[2].get("ok"):
                updates.append((time.monotonic(), str(answer[2].get("ts"))))
        return answer

    fake.handle = timed  # type: ignore[method-assign]
    cpu0 = cpu_seconds()

    def handle(message: dict[str, Any]) -> Any:
        op = message["op"]
        if op == "response_urls":
            return [fake.response_url() for _ in range(int(message["n"]))]
        if op == "messages":
            return [
                fake.add_message(message["channel"], f"{message['text']} ({i})", user=message["user"])
                for i in range(int(message["n"]))
            ]
        if op == "card_ts":  # request id -> its card's ts
            with lock:
                return {str(k): v for k, v in card_ts.items()}
        if op == "updates":  # chat.update calls that succeeded, from the `since`-th on: [monotonic time, ts]
            with lock:
                return updates[int(message.get("since", 0)) :]
        if op == "latency":
            fake.latency = float(message["seconds"])
            return {"ok": True}
        with lock:
            by_method: dict[str, int] = {}
            with fake._lock:
                for call in fake.calls:
                    by_method[call.method] = by_method.get(call.method, 0) + 1
                violations = list(fake.violations)
            stats = {
                "calls": by_method,
                "violations": len(violations),
                "violation_examples": violations[:3],
                "handled": len(handling),
                "handling_seconds": sum(handling),
                "cpu_seconds": cpu_seconds() - cpu0,
                "cards": cards if message.get("cards") else len(cards),
            }
        if op == "stop":
            fake.stop()
        return stats

    serve_stdin(handle, {"url": fake.url})


if __name__ == "__main__":
    main()
