"""The built-in HTTP task (scheduler_app.contrib.http) against a server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from scheduler_app import outbound, services, task_configs
from scheduler_app.contrib.http import client
from scheduler_app.engine.passes import run_pass
from scheduler_app.models import TaskExecutionLog


class Handler(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        Handler.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "body": self.rfile.read(length).decode() if length else "",
            }
        )
        if self.path.startswith("/slow"):
            time.sleep(2)
        status = {"/ok": 200, "/fail": 500, "/missing": 404, "/created": 201}.get(
            self.path.split("?")[0], 200
        )
        if self.path == "/big":
            payload = ("x" * 10_000).encode()
        else:
            payload = f"answer to {self.command} {self.path}".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args) -> None:
        pass


#: The networks of the test servers, allowed where a test talks to them.
LOOPBACK = ["127.0.0.0/8", "::1/128"]


@pytest.fixture
def allow_loopback(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTBOUND_ALLOWED_NETWORKS": LOOPBACK}


@pytest.fixture
def loopback_server():
    """A server on 127.0.0.1, which the outbound guard refuses by default."""
    Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server(loopback_server, allow_loopback):
    """The server, with loopback allowed."""
    return loopback_server


@pytest.fixture
def inline(settings):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "inline",
        "RETRY_JITTER": 0,
        "RETRY_BACKOFF_BASE": 30,
    }


def http_task(make_task, **config):
    return make_task(
        "request", module="http", config=config, due=timezone.now() - dt.timedelta(seconds=1)
    )


def only_log(task) -> TaskExecutionLog:
    return TaskExecutionLog.objects.get(task=task)


@pytest.mark.django_db(transaction=True)
def test_a_successful_request_stores_status_and_body_excerpt(inline, server, make_task):
    task = http_task(
        make_task,
        method="POST",
        url=f"{server}/created",
        body='{"a": 1}',
        headers="Content-Type: application/json\nX-Trace: 42",
        secret_headers="Authorization: Bearer s3cret",
        expected_status="201",
    )
    run_pass()
    log = only_log(task)
    assert log.status == "success"
    data = log.result["data"]
    assert data["status"] == 201 and data["body"] == "answer to POST /created"
    assert log.result["message"] == "HTTP 201 Created"
    sent = Handler.seen[0]
    assert sent["body"] == '{"a": 1}' and sent["headers"]["Authorization"] == "Bearer s3cret"
    assert sent["headers"]["X-Trace"] == "42"
    # The secret header never shows.
    assert task_configs.masked_config(task)["secret_headers"] == task_configs.SECRET_MASK


@pytest.mark.django_db(transaction=True)
def test_a_500_fails_and_is_retried(inline, server, make_task):
    task = http_task(make_task, url=f"{server}/fail")
    before = timezone.now()
    run_pass()
    log = only_log(task)
    assert log.status == "failed" and "HTTP 500" in log.error_message
    assert (
        log.result["data"]["status"] == 500 and "answer to GET /fail" in log.result["data"]["body"]
    )
    task.refresh_from_db()
    assert task.status == "pending" and task.retry_count == 1
    assert task.next_run >= before + dt.timedelta(seconds=29)


@pytest.mark.django_db(transaction=True)
def test_a_timeout_fails_and_is_retried(inline, server, make_task):
    task = http_task(make_task, url=f"{server}/slow", timeout=0.5)
    started = time.monotonic()
    run_pass()
    assert time.monotonic() - started < 2
    log = only_log(task)
    assert log.status == "failed" and "within 0.5 s" in log.error_message
    task.refresh_from_db()
    assert task.retry_count == 1


@pytest.mark.django_db(transaction=True)
def test_a_404_fails_without_retry(inline, server, make_task):
    task = http_task(make_task, url=f"{server}/missing")
    run_pass()
    assert only_log(task).status == "failed"
    task.refresh_from_db()
    assert task.retry_count == 0


def test_a_refused_connection_is_retried(allow_loopback):
    result = client.send({"url": "http://127.0.0.1:9/", "method": "GET", "timeout": 2})
    assert result.status == "failure" and result.retry and "Could not reach" in result.message


def test_the_body_excerpt_is_bounded(server):
    result = client.send({"url": f"{server}/big", "method": "GET"})
    assert result.ok and len(result.data["body"]) == client.BODY_EXCERPT + 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "config, field",
    [
        ({"url": "ftp://example.com/file"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "https://example.com", "headers": "no colon here"}, "headers"),
        ({"url": "https://example.com", "expected_status": "2xx"}, "expected_status"),
        ({"url": "https://example.com", "method": "GET", "body": "x"}, "body"),
    ],
)
def test_bad_configs_are_field_errors(make_task, config, field):
    with pytest.raises(ValidationError) as info:
        make_task("request", module="http", config=config)
    assert field in info.value.message_dict


@pytest.mark.django_db
def test_an_edit_that_sends_the_secret_back_masked_keeps_it(make_task):
    task = make_task(
        "request",
        module="http",
        config={"url": "https://example.com", "secret_headers": "Authorization: Bearer a"},
    )
    shown = task_configs.masked_config(task)
    services.update(task, user=None, config={**shown, "url": "https://example.org"})
    task.refresh_from_db()
    assert task.config["secret_headers"] == "Authorization: Bearer a"
    assert task.config["url"] == "https://example.org"


# -- the outbound guard -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_loopback_destination_is_refused_by_default_and_nothing_is_sent(
    inline, loopback_server, make_task
):
    # A name passes the form (it is resolved at run time), so the runtime check decides.
    port = loopback_server.rsplit(":", 1)[1]
    task = http_task(
        make_task, url=f"http://localhost:{port}/ok", secret_headers="Authorization: Bearer s"
    )
    run_pass()
    log = only_log(task)
    assert log.status == "failed"
    assert log.error_message.startswith(f"Refused GET http://localhost:{port}/ok: ")
    assert "localhost resolves to 127.0.0.1, a loopback address" in log.error_message
    assert "OUTBOUND_ALLOWED_NETWORKS" in log.error_message and not log.traceback
    assert log.result["data"]["refused"]
    assert Handler.seen == []
    task.refresh_from_db()
    assert task.retry_count == 0  # asking again cannot help


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/admin",
        "http://100.64.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "https://[::1]/",
        "https://[fd00::1]/",
        "https://[fe80::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:a9fe:a9fe]/",
        "HTTP://127.0.0.1/",
    ],
)
@pytest.mark.django_db
def test_a_literal_private_address_is_a_field_error_unless_allowed(make_task, settings, url):
    with pytest.raises(ValidationError) as info:
        make_task("request", module="http", config={"url": url})
    assert "may not be requested" in " ".join(info.value.message_dict["url"])
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "OUTBOUND_ALLOWED_NETWORKS": ["0.0.0.0/0", "::/0"],
    }
    assert make_task("request", module="http", config={"url": url}).config["url"] == url


@pytest.mark.django_db
def test_credentials_in_the_url_are_a_field_error(make_task):
    with pytest.raises(ValidationError) as info:
        make_task("request", module="http", config={"url": "https://user:pw@example.com/"})
    assert "secret header" in " ".join(info.value.message_dict["url"])


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_network_is_no_longer_allowed_fails_without_a_request(
    inline, server, make_task, settings
):
    task = http_task(make_task, url=f"{server}/ok")
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTBOUND_ALLOWED_NETWORKS": []}
    run_pass()
    log = only_log(task)
    assert log.status == "failed" and "a loopback address" in log.error_message
    assert Handler.seen == []


def test_a_refused_destination_makes_no_connection():
    connected = []
    guard = outbound.Guard(connect=lambda address, timeout: connected.append(address))
    result = client.send({"url": "http://[::ffff:10.0.0.1]:8080/", "method": "POST"}, guard=guard)
    assert result.status == "failure" and not result.retry
    assert "::ffff:10.0.0.1 (10.0.0.1), a private address" in result.message and connected == []
