"""Fixtures every test file may use, and the rule that keeps the tests marked `serial` alone on the machine.

`python -m pytest -n 3 --dist worksteal` runs the suite on three workers (two cores: a third worker's tests fill the
time the others wait on a process, a retry or a lock; an idle worker takes half of a busy one's queue). A test
marked `@pytest.mark.serial` (a deadline that a loaded machine can miss) must not run beside any other test: every
test takes a lock file shared by the workers, the serial ones exclusively, the others shared, so a serial test
waits for the tests running on the other workers to finish, and the other workers wait for it.

The tests' files (tmp_path, temporary directories, the bots' databases) are kept in memory when the machine has a
memory-backed /dev/shm: every commit the bot makes is fsynced (synchronous=FULL), and on a disk those waits were a
third of the suite's time. A crash test kills processes, never the machine, so what it proves is the same.
`PYTEST_DEBUG_TEMPROOT` or `TMPDIR` set by hand, or `--basetemp`, is used as given.
"""

import fcntl
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_slack import FakeSlack, fake_slack  # noqa: F401  (the fixture)
from tests.harness import Harness, start_harness

SERIAL = "serial"
MEMORY = Path("/dev/shm")


def _temporary_files_in_memory() -> None:
    """Point pytest's temporary root and `tempfile` (and so the bot processes the tests start) at /dev/shm, unless
    a root was chosen by hand or there is no writable /dev/shm. Run at import, in the controller before it starts
    the workers (they inherit the environment) and in each worker."""
    if {"PYTEST_DEBUG_TEMPROOT", "TMPDIR"} & set(os.environ) or not (MEMORY.is_dir() and os.access(MEMORY, os.W_OK)):
        return
    os.environ["PYTEST_DEBUG_TEMPROOT"] = os.environ["TMPDIR"] = str(MEMORY)
    tempfile.tempdir = None  # read TMPDIR again


_temporary_files_in_memory()


def _bytecode_kept_aside() -> None:
    """With PYTHONDONTWRITEBYTECODE set, every worker compiled every module, and rewrote every test module's asserts,
    anew on each run (about 8 s of CPU a worker). Keep the bytecode instead in a cache beside the temporary files
    (PYTHONPYCACHEPREFIX, which the bot processes the tests start inherit): still nothing beside the sources.
    A prefix set by hand is used as given."""
    if not sys.dont_write_bytecode or sys.pycache_prefix:
        return
    prefix = Path(tempfile.gettempdir()) / "ai-intake-pycache"
    os.environ["PYTHONPYCACHEPREFIX"] = sys.pycache_prefix = str(prefix)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False


_bytecode_kept_aside()


@pytest.fixture(autouse=True)
def _alone_when_serial(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Under xdist, hold the workers' lock for the whole test: exclusively for a serial test, shared otherwise.

    Every worker takes the lock through a gate (a second lock file, held only while taking the first): a serial
    test waiting for the others to finish their tests holds the gate, so no new test slips in before it and it
    waits at most for the tests already running (a plain shared/exclusive lock would let the other workers'
    tests overlap one another and keep it waiting for minutes)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    shared = tmp_path_factory.getbasetemp().parent  # the directory the workers share
    with (shared / "serial.gate").open("a") as gate, (shared / "serial.lock").open("a") as lock:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if request.node.get_closest_marker(SERIAL) else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def harness(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:  # noqa: F811
    h = start_harness(tmp_path, fake_slack)
    yield h
    h.stop()
