"""Record the webhook bodies a real Prometheus Alertmanager sends, as the samples the hook tests read.

Runs the `alertmanager` binary (Debian's `prometheus-alertmanager` package; any 0.2x release) on
127.0.0.1 with a config whose webhook receivers point at a small receiver in this script, posts alerts
to its API, and writes each body it receives, byte for byte, to tests/samples/hooks/:

    alertmanager-group-firing.json           a group of 22 KubePodNotReady alerts and one RefundAnswerAccuracyDrop
    alertmanager-group-truncated.json        the same group through a receiver with max_alerts: 5
    alertmanager-group-partly-resolved.json  two of the pods ready again: resolved and firing alerts in one body
    alertmanager-group-escalated.json        RefundAnswerAccuracyDrop's severity raised from warning to critical
    alertmanager-group-resolved.json         every alert of the group resolved
    alertmanager-group-refired.json          RefundAnswerAccuracyDrop firing again after that

Usage (nothing here reaches the network; the tests never run it, they read what it wrote):

    apt-get install -y prometheus-alertmanager
    python tests/samples/hooks/record_alertmanager.py [--binary /usr/bin/prometheus-alertmanager]
"""

from __future__ import annotations

import argparse
import json
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONFIG = """
route:
  receiver: ai-intake
  group_by: [job]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - {{receiver: ai-intake, continue: true}}
    - {{receiver: ai-intake-truncated}}
receivers:
  - name: ai-intake
    webhook_configs:
      - {{url: "http://127.0.0.1:{port}/hooks/regressions", send_resolved: true}}
  - name: ai-intake-truncated
    webhook_configs:
      - {{url: "http://127.0.0.1:{port}/truncated", send_resolved: true, max_alerts: 5}}
"""
RUNBOOK = "https://runbooks.example.com/kubernetes/kubepodnotready"
GENERATOR = "https://prometheus.example.com/graph?g0.expr=kube_pod_status_ready%7Bcondition%3D%22false%22%7D&g0.tab=1"


def pod_alert(n: int, *, ends: datetime | None = None) -> dict[str, Any]:
    """A kube-prometheus KubePodNotReady alert, its text in `annotations.message` as that mixin writes it."""
    pod = f"support-bot-api-{n:02d}"
    return _alert(
        {
            "alertname": "KubePodNotReady",
            "job": "support-bot",
            "namespace": "support-bot",
            "pod": pod,
            "severity": "warning",
        },
        {
            "message": f"Pod support-bot/{pod} has been in a non-ready state for longer than 15 minutes.",
            "runbook_url": RUNBOOK,
        },
        ends=ends,
    )


def accuracy_alert(severity: str, *, ends: datetime | None = None) -> dict[str, Any]:
    return _alert(
        {
            "alertname": "RefundAnswerAccuracyDrop",
            "job": "support-bot",
            "domain": "support",
            "asset": "refund-intent",
            "severity": severity,
        },
        {
            "summary": "Refund answers disagree with the policy for 12% of conversations",
            "description": "The online judge flags refund-window answers as wrong in **12%** of sampled "
            "conversations (baseline 2%) over the last 30 minutes.",
            "runbook_url": "https://runbooks.example.com/support/refund-accuracy",
        },
        ends=ends,
        generator="https://prometheus.example.com/graph?g0.expr=refund_judge_error_ratio+%3E+0.05&g0.tab=1",
    )


def _alert(
    labels: dict[str, str], annotations: dict[str, str], *, ends: datetime | None, generator: str = GENERATOR
) -> dict[str, Any]:
    alert: dict[str, Any] = {"labels": labels, "annotations": annotations, "generatorURL": generator}
    if ends is not None:
        alert["endsAt"] = ends.isoformat()
    return alert


class Receiver(BaseHTTPRequestHandler):
    bodies: queue.Queue[tuple[str, bytes]] = queue.Queue()

    def do_POST(self) -> None:  # noqa: N802 (the http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.bodies.put((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def post_alerts(api: str, alerts: list[dict[str, Any]]) -> None:
    request = urllib.request.Request(
        f"{api}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, response.status


def wait_for(path: str, *, until: Any = None, timeout: float = 60) -> bytes:
    """The next body posted to `path` (for which `until(body)` holds, when given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got, body = Receiver.bodies.get(timeout=1)
        except queue.Empty:
            continue
        if got == path and (until is None or until(json.loads(body))):
            return body
    raise SystemExit(f"no body on {path} within {timeout} seconds")


def statuses(body: dict[str, Any]) -> list[str]:
    return sorted(a["status"] for a in body["alerts"])


def save(name: str, body: bytes) -> None:
    (HERE / name).write_bytes(body)
    print(f"wrote {name}: {len(body)} bytes, {len(json.loads(body)['alerts'])} alerts")


def record(binary: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "alertmanager.yml")
        config.write_text(CONFIG.format(port=server.server_address[1]))
        listen = "127.0.0.1:19093"
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={tmp}",
                f"--web.listen-address={listen}",
                "--cluster.listen-address=",
                "--web.external-url=https://alertmanager.example.com",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            play(f"http://{listen}")
        finally:
            process.terminate()
            process.wait(timeout=10)
            server.shutdown()


def play(api: str) -> None:
    for _ in range(50):
        try:
            urllib.request.urlopen(f"{api}/-/ready", timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    pods = list(range(22))
    post_alerts(api, [pod_alert(n) for n in pods] + [accuracy_alert("warning")])
    save("alertmanager-group-firing.json", wait_for("/hooks/regressions", until=lambda b: len(b["alerts"]) == 23))
    save("alertmanager-group-truncated.json", wait_for("/truncated"))
    now = datetime.now(timezone.utc)
    post_alerts(api, [pod_alert(n, ends=now) for n in (3, 7)])
    save(
        "alertmanager-group-partly-resolved.json",
        wait_for("/hooks/regressions", until=lambda b: statuses(b).count("resolved") == 2),
    )
    post_alerts(api, [accuracy_alert("warning", ends=now), accuracy_alert("critical")])
    save(
        "alertmanager-group-escalated.json",
        wait_for(
            "/hooks/regressions", until=lambda b: any(a["labels"].get("severity") == "critical" for a in b["alerts"])
        ),
    )
    now = datetime.now(timezone.utc)
    post_alerts(api, [pod_alert(n, ends=now) for n in pods] + [accuracy_alert("critical", ends=now)])
    save("alertmanager-group-resolved.json", wait_for("/hooks/regressions", until=lambda b: b["status"] == "resolved"))
    time.sleep(3)
    refired = accuracy_alert("critical")
    refired["startsAt"] = datetime.now(timezone.utc).isoformat()
    post_alerts(api, [refired])
    save("alertmanager-group-refired.json", wait_for("/hooks/regressions", until=lambda b: b["status"] == "firing"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--binary", default=shutil.which("prometheus-alertmanager") or shutil.which("alertmanager") or ""
    )
    args = parser.parse_args()
    if not args.binary:
        sys.exit("no alertmanager binary: apt-get install -y prometheus-alertmanager, or pass --binary")
    record(args.binary)


if __name__ == "__main__":
    main()
