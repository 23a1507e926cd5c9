"""Probes of OUTBOUND_PROXY and NO_PROXY: odd values never crash, credentials never shown."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from scheduler_app import outbound
from scheduler_app.checks import check_settings
from scheduler_app.outbound.proxies import bypassed, environment_proxy, parse_proxy, setting_problem

SECRET = "s3cr3tPW"


@pytest.mark.parametrize(
    "value",
    [
        f"http://user:{SECRET}",  # host forgotten: the password reads as the port
        f"http://user:{SECRET}/x@proxy:3128",  # an unencoded '/' in the password
        f"http://user:{SECRET}?@proxy:3128",
        f"http://user:{SECRET}#@proxy:3128",
        f"socks5://user:{SECRET}@proxy:1080",
        f"http://user:{SECRET}@:3128",
        f"http://user:{SECRET}@proxy:99999",
        f"http://user:{SECRET}@[::1:3128",
    ],
)
def test_a_bad_proxy_url_with_credentials_never_shows_them(settings, value, caplog):
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTBOUND_PROXY": value}
    with caplog.at_level(logging.DEBUG):
        found = [m for m in check_settings(None) if m.id == "scheduler_app.E031"]
        assert outbound.Guard.from_settings().proxy("http", "x.example", 80) is None
    [error] = found
    assert SECRET not in error.msg and SECRET not in (error.hint or "")
    assert SECRET not in caplog.text


@pytest.mark.parametrize("value", ["http://proxy:0", "proxy:0", "http://proxy:-1"])
def test_a_proxy_port_out_of_range_is_e031(settings, value):
    assert setting_problem(value)


def test_a_good_proxy_with_credentials_shows_only_host_and_port():
    proxy = parse_proxy(f"http://user:{SECRET}@proxy.example:3128")
    assert str(proxy) == "proxy.example:3128"
    assert proxy.authorization and proxy.authorization not in repr(proxy)
    assert SECRET not in repr(proxy) and "authorization" not in repr(proxy)


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "expected"),
    [
        ("svc.example", 80, "svc.example:²", False),  # a digit Python's int() does not read
        ("svc.example", 80, "svc.example:٨٠", False),
        ("svc.example", 80, "svc.example:" + "9" * 5000, False),
        ("svc.example", 80, "svc.example:", False),
        ("fe80::1", 80, "fe80::/10", True),
        ("2001:db8::1", 443, "[2001:db8::1]:443", True),
        ("2001:db8::1", 80, "[2001:db8::1]:443", False),
        ("10.0.0.1", 80, "10.0.0.1:80", True),
        ("10.0.0.1", 81, "10.0.0.1:80", False),
        ("svc.example", 80, "*.svc.example", True),  # as ".svc.example": the dot is optional
        ("a.svc.example", 80, "*.svc.example", True),
        ("svc.example", 80, "[bad", False),
        ("svc.example", 80, "10.0.0.0/99", False),
    ],
)
def test_no_proxy_odd_entries(host, port, no_proxy, expected):
    assert bypassed(host, port, no_proxy) is expected


@hsettings(max_examples=300, deadline=None)
@given(
    host=st.one_of(st.text(max_size=40), st.ip_addresses().map(str)),
    port=st.integers(0, 65535),
    no_proxy=st.text(max_size=80),
)
def test_no_proxy_never_raises(host, port, no_proxy):
    assert bypassed(host, port, no_proxy) in (True, False)


@hsettings(max_examples=200, deadline=None)
@given(value=st.text(max_size=80))
def test_any_proxy_setting_is_a_problem_or_a_chooser(value):
    assert isinstance(setting_problem(value), str)


def test_an_unreadable_no_proxy_in_the_environment_does_not_break_requests(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("no_proxy", "svc.example:²")
    proxy = environment_proxy("http", "svc.example", 80)
    assert proxy is not None and proxy.port == 3128


@pytest.mark.parametrize(
    "value",
    ["http://pro xy:3128", "http://proxy\x00:3128", 'http://pr"oxy:3128', "http://-proxy:1"],
)
def test_a_proxy_host_that_is_no_name_is_e031_and_means_no_proxy(settings, value):
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTBOUND_PROXY": value}
    [error] = [m for m in check_settings(None) if m.id == "scheduler_app.E031"]
    assert "host" in error.msg
    assert outbound.Guard.from_settings().proxy("http", "x.example", 80) is None


@pytest.mark.parametrize(
    "value",
    ["http://[::1]:3128", "http://10.0.0.1:3128", "proxy.example.:3128", "http://éxample.de:1"],
)
def test_names_and_addresses_are_good_proxy_hosts(value):
    assert setting_problem(value) == ""
