"""scripts/demo serves the admin with the scheduler running beside it; one signal stops both.

The script runs for real (on its own SQLite file, a free port, without scripts/setup),
and the test reads what it prints, the pages it serves and the scheduler's heartbeats.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.test_packaging import clean_env

ROOT = Path(__file__).resolve().parent.parent
STARTUP = 240  # seconds: migrating and seeding a new database on a busy machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def passes(database: Path) -> int:
    """The scheduler passes the demo recorded (one heartbeat row each)."""
    try:
        with sqlite3.connect(database, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM scheduler_app_schedulerheartbeat").fetchone()[0]
    except sqlite3.Error:
        return 0


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_readme_lists_every_demo_login_with_its_password_and_role():
    from project.reports.management.commands.seed_demo import demo_users

    readme = (ROOT / "README.md").read_text()
    users = demo_users()
    assert len(users) >= 9
    for spec in users:
        assert f"| `{spec.username}` | `{spec.password}` | {spec.role} |" in readme, spec.username


@pytest.mark.slow
@pytest.mark.parametrize(
    "stop",
    [
        pytest.param("ctrl-c", id="ctrl-c-to-the-terminal-group"),
        pytest.param("sigterm", id="sigterm-to-the-script-alone"),
    ],
)
def test_the_demo_serves_and_keeps_scheduling_until_one_signal_stops_both(tmp_path, stop):
    port = free_port()
    database = tmp_path / "demo.sqlite3"
    output = tmp_path / "demo.log"
    env = clean_env(
        SKIP_SETUP="1",
        DATABASE_URL=f"sqlite:///{database}",
        MEDIA_ROOT=str(tmp_path / "media"),
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        SCHEDULER_WORKERS="0",
    )
    with output.open("w") as log:
        # Its own session, as a terminal gives a job its own process group.
        demo = subprocess.Popen(
            [str(ROOT / "scripts" / "demo"), f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/admin/login/"), STARTUP, "the server")
        # The scheduler keeps passing while the server serves (not one pass, then silence).
        first = passes(database)
        wait_for(lambda: passes(database) >= first + 2, 60, "two more scheduler passes")
        printed = output.read_text()
        assert "Scheduler running" in printed
        assert printed.count("Demo logins") == 1, printed
        assert "Ctrl-C stops both" in printed

        if stop == "ctrl-c":
            os.killpg(demo.pid, signal.SIGINT)
        else:
            demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)
        wait_for(lambda: not group_alive(demo.pid), 30, "every process of the demo to end")
        assert "Scheduler stopped after" in output.read_text()
        assert not answers(f"http://127.0.0.1:{port}/admin/login/")
    finally:
        if group_alive(demo.pid):
            os.killpg(demo.pid, signal.SIGKILL)
        demo.wait(timeout=10)
