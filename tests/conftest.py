"""Fixtures every test file may use, and the rule that keeps the tests marked `serial` alone on the machine.

`python -m pytest -n 2` runs the suite on two workers. A test marked `@pytest.mark.serial` (a deadline that a
loaded machine can miss, or a subprocess the test kills and restarts) must not run beside any other test: every
test takes a lock file shared by the workers, the serial ones exclusively, the others shared, so a serial test
waits for the test running on the other worker to finish, and the other worker waits for it.
"""

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_slack import FakeSlack, fake_slack  # noqa: F401  (the fixture)
from tests.harness import Harness, start_harness

SERIAL = "serial"


@pytest.fixture(autouse=True)
def _alone_when_serial(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Under xdist, hold the workers' lock for the whole test: exclusively for a serial test, shared otherwise."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    lock = tmp_path_factory.getbasetemp().parent / "serial.lock"  # the directory the workers share
    with lock.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX if request.node.get_closest_marker(SERIAL) else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


@pytest.fixture
def harness(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:  # noqa: F811
    h = start_harness(tmp_path, fake_slack)
    yield h
    h.stop()
