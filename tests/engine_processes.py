"""Start ``manage.py`` scheduler processes on the test database, for the engine and command tests."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from scheduler_app.models import ScheduledTask

ROOT = Path(__file__).resolve().parent.parent


def fresh_python(code: str, env: dict[str, str]) -> list[str]:
    """Run ``code`` in a new interpreter at the project root; its output lines (it must succeed)."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()


def database_url() -> str:
    """The URL of the database this test runs on (the test database, not the project's)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    assert connection.vendor == "postgresql"
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


def scheduler_env(**scheduler_keys) -> dict[str, str]:
    """Environment of a scheduler process: tests.engine_settings, the test database, own locks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.engine_settings",
        DATABASE_URL=database_url(),
        PYTHONUNBUFFERED="1",
        SCHEDULER_LOCK_PREFIX=f"scheduler:test:{uuid.uuid4().hex}:",
    )
    env.update({f"SCHEDULER_{key}": str(value) for key, value in scheduler_keys.items()})
    return env


class Processes:
    """Processes a test started; each in its own process group, all killed when the test ends."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def manage(self, *args: str, env: dict[str, str]) -> subprocess.Popen:
        return self.command(sys.executable, "manage.py", *args, env=env)

    def command(
        self, *argv: str, env: dict[str, str], output: Path | None = None
    ) -> subprocess.Popen:
        """Start ``argv`` in the project's directory; its output is piped, or written to
        ``output`` (for a long-lived process whose output nobody reads while it runs)."""
        sink = open(output, "w") if output is not None else None
        try:
            process = subprocess.Popen(
                list(argv),
                cwd=ROOT,
                env=env,
                stdout=sink or subprocess.PIPE,
                stderr=subprocess.STDOUT if sink else subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        finally:
            if sink is not None:
                sink.close()
        self.started.append(process)
        return process

    def scheduler(self, *args: str, env: dict[str, str]) -> subprocess.Popen:
        return self.manage("runscheduler", *args, env=env)

    def kill_all(self) -> None:
        while self.started:
            process = self.started.pop()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.communicate()


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    """Wait for ``process``; return (exit code, stdout, stderr)."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"the process did not finish in {timeout} s:\n{out}\n{err}")
    return process.returncode, out, err


def wait_for(condition, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def due_tasks(make_task, count: int, **kwargs) -> list[int]:  # noqa: ANN001
    """``count`` due one-time tasks: one scheduled through the services, the rest copied in bulk."""
    kwargs.setdefault("config", {})
    first = make_task(
        kwargs.pop("task_type", "record"),
        schedule_type="one_time",
        cron=None,
        run_at=timezone.now() + dt.timedelta(days=1),
        due=timezone.now() - dt.timedelta(seconds=30),
        **kwargs,
    )
    fields = {
        f.attname: getattr(first, f.attname)
        for f in ScheduledTask._meta.concrete_fields
        if not f.primary_key
    }
    ScheduledTask.objects.bulk_create(
        [ScheduledTask(**{**fields, "name": f"{first.name} {n}"}) for n in range(1, count)],
        batch_size=500,
    )
    return list(
        ScheduledTask.objects.filter(pk__gte=first.pk).order_by("pk").values_list("pk", flat=True)
    )


@pytest.fixture
def procs():
    """The processes a test starts; any still running are killed when it ends."""
    started = Processes()
    yield started
    started.kill_all()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children first, then theirs), as /proc lists them."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        return []
    return [p for child in children for p in (child, *descendants(child))]


def statuses(task_id: int) -> list[str]:
    """The log statuses of ``task_id``'s runs, oldest first."""
    from scheduler_app.models import TaskExecutionLog

    return list(
        TaskExecutionLog.objects.filter(task_id=task_id)
        .order_by("pk")
        .values_list("status", flat=True)
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test alone, on a free port (the shared one is never touched)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed"
    port = free_port()
    server = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def ping() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_for(ping, 10, "redis-server to start")
    yield server, f"redis://127.0.0.1:{port}/0"
    if server.poll() is None:
        server.kill()
    server.wait(10)
