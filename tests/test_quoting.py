"""User input quoted in a message: at most QUOTE_LIMIT (80) characters, on every surface.

A config form's own messages (a choice, a project's validator that interpolates the
value, a clean() with params) and every message built from input go through one
helper, ``scheduler_app.quoting``. Checked through the services, the scheduling page,
the HTTP API and the commands, with arbitrary long input.
"""

from __future__ import annotations

import json
import re
import string

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from scheduler_app import SchedulableTask, TaskResult, quoting, services
from scheduler_app.registry import registry
from tests.api.conftest import API, task_body

pytestmark = pytest.mark.django_db

PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
LIMIT = quoting.QUOTE_LIMIT
# Letters and digits: no HTML escaping changes them, no form strips them.
LONG = st.text(alphabet=string.ascii_letters + string.digits, min_size=LIMIT + 1, max_size=3000)
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def refuse_word(value):
    # A project's validator that puts the value straight into its message (no quote marks).
    if value and not value.startswith("ok"):
        raise ValidationError(f"{value} is not a word this module accepts.")


class PickyForm(forms.Form):
    choice = forms.ChoiceField(choices=[("a", "A")], required=False)
    many = forms.MultipleChoiceField(choices=[("a", "A")], required=False)
    word = forms.CharField(required=False, max_length=5000, validators=[refuse_word])
    motto = forms.CharField(required=False, max_length=5000)

    def clean(self):
        motto = self.cleaned_data.get("motto")
        if motto:
            raise ValidationError(
                "The module refuses the motto %(motto)s.", params={"motto": motto}
            )
        return self.cleaned_data


class Picky(SchedulableTask):
    name = "Picky about its configuration"
    config_form = PickyForm

    def execute(self, context):  # pragma: no cover - never run here
        return TaskResult.success()


@pytest.fixture(autouse=True)
def picky(monkeypatch):
    monkeypatch.setitem(registry.get("testmod").task_types, "picky", Picky)


@pytest.fixture(autouse=True)
def _no_throttling(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "API_THROTTLE_RATES": None}


@pytest.fixture
def user(make_user):
    return make_user(*PERMS)


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_login(user)
    return client


def assert_bounded(messages: list[str], text: str) -> None:
    """No message repeats more than LIMIT characters of ``text``, nor is longer than 300."""
    assert messages, "the input was expected to be refused"
    windows = {text[i : i + LIMIT + 1] for i in range(len(text) - LIMIT)}
    for message in messages:
        assert len(message) <= quoting.MESSAGE_LIMIT, message
        assert not any(w in message for w in windows), message


def config_cases(text: str) -> list[dict]:
    return [
        {"choice": text},
        {"many": [text]},
        {"word": text},
        {"motto": text},
    ]


def flat(error: ValidationError) -> list[str]:
    return [m for ms in error.message_dict.values() for m in ms]


# -- the helper --------------------------------------------------------------------------


@given(text=st.text(max_size=500))
def test_quote_input_keeps_short_text_and_cuts_long_text_to_the_limit(text):
    quoted = quoting.quote_input(text)
    assert quoted == text if len(text) <= LIMIT else (len(quoted) == LIMIT and quoted[-1] == "…")


@given(text=LONG, before=st.text(max_size=50), after=st.text(max_size=50))
def test_clip_inputs_cuts_every_repeat_of_a_long_input(text, before, after):
    message = quoting.clip_inputs(
        f"{before}{text}{after}{text}", quoting.long_inputs([{"x": text}])
    )
    assert text not in message and message.count(quoting.quote_input(text)) >= 2


# -- through the services ----------------------------------------------------------------


@PROPERTY
@given(text=LONG)
def test_config_form_messages_quote_at_most_80_characters_through_the_services(text):
    for config in config_cases(text):
        with pytest.raises(ValidationError) as info:
            services.schedule(
                user=None,
                module="testmod",
                task_type="picky",
                schedule_type="cron",
                cron="0 6 * * *",
                config=config,
            )
        assert_bounded(flat(info.value), text)


def test_the_quote_still_shows_the_start_of_the_input():
    text = "x" * 500
    with pytest.raises(ValidationError) as info:
        services.schedule(
            user=None,
            module="testmod",
            task_type="picky",
            schedule_type="cron",
            cron="0 6 * * *",
            config={"word": text},
        )
    assert info.value.message_dict["word"] == [
        f"{'x' * (LIMIT - 1)}… is not a word this module accepts."
    ]


@PROPERTY
@given(text=LONG)
def test_update_messages_quote_at_most_80_characters(make_task, text):
    task = make_task("picky", config={})
    for config in config_cases(text):
        with pytest.raises(ValidationError) as info:
            services.update(task, user=None, config=config)
        assert_bounded(flat(info.value), text)


@PROPERTY
@given(text=LONG)
def test_schedule_arguments_quote_at_most_80_characters(text):
    cases = [
        {"cron": f"{text} * * * *"},
        {"timezone": text},
        {"schedule_type": text},
        {"tags": [text]},
        {"name": text * 3},
    ]
    for extra in cases:
        kwargs = {"schedule_type": "cron", "cron": "0 6 * * *", **extra}
        with pytest.raises(ValidationError) as info:
            services.schedule(user=None, module="testmod", task_type="record", config={}, **kwargs)
        assert_bounded(flat(info.value), text)


# -- the scheduling page -----------------------------------------------------------------


@PROPERTY
@given(text=LONG)
def test_the_scheduling_page_shows_config_errors_quoting_at_most_80_characters(client, user, text):
    client.force_login(user)
    url = reverse("scheduler_app:new", kwargs={"module": "testmod", "task_type": "picky"})
    base = {
        "name": "x",
        "schedule_type": "cron",
        "cron": "0 6 * * *",
        "timezone": "UTC",
        "priority": "5",
        "max_retries": "1",
        "timeout": "60",
        "interval_unit": "hours",
    }
    for field, value in [("choice", text), ("many", [text]), ("word", text), ("motto", text)]:
        response = client.post(url, {**base, f"config-{field}": value})
        assert response.status_code == 400
        html = response.content.decode()
        errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
        assert_bounded(errors, text)


# -- the HTTP API ------------------------------------------------------------------------


@PROPERTY
@given(text=LONG)
def test_the_api_answers_400_quoting_at_most_80_characters(api, text):
    bodies = [task_body(task_type="picky", config=config) for config in config_cases(text)] + [
        task_body(schedule_type=text),
        task_body(timezone=text),
        task_body(cron=f"{text} * * * *"),
    ]
    for body in bodies:
        response = api.post(f"{API}tasks/", body, format="json")
        assert response.status_code == 400, response.content
        data = response.json()
        assert_bounded([*(m for ms in data["errors"].values() for m in ms)], text)
    for body in ({"expression": f"{text} * * * *"}, {"expression": "* * * * *", "timezone": text}):
        response = api.post(f"{API}cron/validate/", body, format="json")
        assert response.status_code == 400
        assert_bounded([m for ms in response.json()["errors"].values() for m in ms], text)


def test_a_long_config_value_never_comes_back_whole_from_the_api(api):
    text = "k" * 400
    response = api.post(
        f"{API}tasks/",
        json.dumps({**task_body(task_type="picky"), "config": {"choice": text}}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert text not in response.content.decode()


# -- the commands --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["scheduler_pause_window", "--starts", "{text}", "--for", "1h"],
        ["scheduler_pause_window", "--for", "{text}"],
        ["scheduler_token", "create", "{text}"],
        ["scheduler_token", "revoke", "{text}"],
        ["scheduler_list", "--as-user", "{text}"],
    ],
)
def test_commands_quote_at_most_80_characters_of_an_argument(args):
    text = "q" * 500
    with pytest.raises(CommandError) as info:
        call_command(*[a.format(text=text) for a in args])
    assert_bounded([str(info.value)], text)


# -- the admin's messages -------------------------------------------------------------------


def test_admin_action_messages_quote_a_long_task_name_at_most_80_characters(
    client, make_user, make_task
):
    from django.contrib.messages import get_messages

    owner = make_user(*PERMS, is_staff=True)
    name = "n" * 200
    mine = make_task(name=name, user=owner)
    theirs = make_task(name=name.replace("n", "t"), owner=make_user())
    client.force_login(owner)
    response = client.post(
        reverse("admin:scheduler_app_scheduledtask_changelist"),
        {"action": "pause_tasks", "_selected_action": [mine.pk, theirs.pk]},
        follow=True,
    )
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(messages) == 2
    assert_bounded(messages, name)
    assert_bounded(messages, name.replace("n", "t"))
