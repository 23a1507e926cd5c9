"""Schedulers behind PgBouncer in transaction-pooling mode (PostgreSQL runs only).

A PgBouncer of the test's own, on a free port, pooling the test database in
``pool_mode = transaction``: each statement's transaction may run on another
server connection. Two schedulers through it at once run every due task once;
a daemon through it with ``WAKE = "poll"`` (LISTEN cannot work through
transaction pooling) still starts a task run now without waiting a loop.
"""

from __future__ import annotations

import collections
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from scheduler_app import services
from scheduler_app.models import SchedulerHeartbeat, TaskExecutionLog
from tests.engine_processes import (
    database_url,
    due_tasks,
    finish,
    free_port,
    scheduler_env,
    wait_for,
)
from tests.testapp.models import Execution

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PgBouncer pools PostgreSQL connections (the PostgreSQL runs test it)",
    ),
]


@pytest.fixture
def pgbouncer():
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    assert os.path.exists(binary), "pgbouncer is not installed"
    db = connection.settings_dict
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    folder.chmod(0o777)  # PgBouncer refuses to run as root: it runs as postgres
    (folder / "users.txt").write_text(f'"{db["USER"]}" "{db.get("PASSWORD") or ""}"\n')
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n* = host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"unix_socket_dir = {folder}\nauth_type = trust\nauth_file = {folder}/users.txt\n"
        f"pool_mode = transaction\ndefault_pool_size = 4\nmax_client_conn = 200\n"
        f"ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {folder}/pgbouncer.log\npidfile = {folder}/pgbouncer.pid\n"
    )
    for path in folder.iterdir():
        path.chmod(0o666)
    command = [binary, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, 20, "pgbouncer to start")
    yield database_url().replace(f":{db['PORT'] or 5432}/", f":{port}/")
    server.send_signal(signal.SIGTERM)
    server.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


def test_two_schedulers_through_transaction_pooling_run_each_task_once(procs, make_task, pgbouncer):
    ids = due_tasks(make_task, 300)
    env = scheduler_env(BATCH_SIZE=20)
    env["DATABASE_URL"] = pgbouncer
    results = [finish(p) for p in [procs.scheduler("-v0", env=env) for _ in range(2)]]

    for code, _out, err in results:
        assert code == 0, err
    runs = collections.Counter(Execution.objects.values_list("task_id", flat=True))
    assert set(runs) == set(ids) and set(runs.values()) == {1}
    assert set(TaskExecutionLog.objects.values_list("status", flat=True)) == {"success"}


def test_a_daemon_behind_pgbouncer_polls_for_wake_ups(procs, make_task, pgbouncer):
    import datetime as dt

    from django.utils import timezone

    task = make_task(
        schedule_type="one_time", cron=None, run_at=timezone.now() + dt.timedelta(days=1)
    )
    env = scheduler_env(WAKE="poll")
    env["DATABASE_URL"] = pgbouncer
    procs.scheduler("--loop", "--sleep", "60", "--workers", "1", env=env)
    wait_for(lambda: SchedulerHeartbeat.objects.exists(), 60, "the daemon's first pass")
    services.run_now(task, user=None)
    wait_for(lambda: Execution.objects.filter(task_id=task.pk).exists(), 10, "the run to start")
