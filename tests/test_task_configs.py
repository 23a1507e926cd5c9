"""Task configuration: form validation, JSON storage, secrets."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid

import pytest
from django import forms
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler_app import SchedulableTask, TaskResult, task_configs
from scheduler_app.task_configs import SECRET_MASK


class MailForm(forms.Form):
    recipient = forms.EmailField()
    subject = forms.CharField(max_length=20, required=False)
    copies = forms.IntegerField(min_value=1, required=False)
    password = forms.CharField(required=False)
    send_on = forms.DateField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("subject") == "forbidden":
            raise ValidationError("This subject cannot be sent.", code="forbidden")
        return data


class Mail(SchedulableTask):
    name = "Mail"
    config_form = MailForm
    secret_fields = ("password",)

    def execute(self, context):
        return TaskResult.success()


class Plain(SchedulableTask):
    def execute(self, context):
        return TaskResult.success()


class GroupForm(forms.Form):
    group = forms.ModelChoiceField(queryset=Group.objects.all())
    groups = forms.ModelMultipleChoiceField(queryset=Group.objects.all(), required=False)


class GroupTask(Plain):
    config_form = GroupForm


def test_clean_config_returns_cleaned_values():
    cleaned = task_configs.clean_config(
        Mail, {"recipient": "a@example.com", "copies": "3", "send_on": "2026-06-01"}
    )
    assert cleaned["copies"] == 3
    assert cleaned["send_on"] == dt.date(2026, 6, 1)


def test_field_errors_are_keyed_by_the_forms_field_names():
    with pytest.raises(ValidationError) as excinfo:
        task_configs.clean_config(Mail, {"recipient": "not-an-email", "copies": 0})
    errors = excinfo.value.message_dict
    assert set(errors) == {"recipient", "copies"}
    assert "valid email" in errors["recipient"][0]
    codes = {k: [e.code for e in v] for k, v in excinfo.value.error_dict.items()}
    assert codes == {"recipient": ["invalid"], "copies": ["min_value"]}


def test_required_field_missing():
    with pytest.raises(ValidationError) as excinfo:
        task_configs.clean_config(Mail, {})
    assert excinfo.value.message_dict == {"recipient": ["This field is required."]}


def test_form_wide_errors_are_reported_on_config():
    with pytest.raises(ValidationError) as excinfo:
        task_configs.clean_config(Mail, {"recipient": "a@example.com", "subject": "forbidden"})
    assert excinfo.value.message_dict == {"config": ["This subject cannot be sent."]}


@pytest.mark.parametrize("config", ["recipient=a@example.com", ["a"], 5])
def test_config_that_is_not_an_object_is_refused(config):
    with pytest.raises(ValidationError) as excinfo:
        task_configs.clean_config(Mail, config)
    assert excinfo.value.message_dict == {"config": ["The configuration must be a JSON object."]}


def test_no_config_is_an_empty_config():
    assert task_configs.clean_config(Plain, None) == {}
    assert task_configs.store_config(Plain, {"stray": 1}) == {}


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(config=st.none() | st.dictionaries(st.text(), _json, max_size=5) | _json)
def test_a_type_without_a_form_cleans_any_config_as_its_form_would(config):
    """Field-less types skip building the form: same result, same refusal, for any value."""

    def through_the_form(task_cls):
        try:
            return ("ok", task_configs.clean_config(task_cls, config))
        except ValidationError as exc:
            return ("refused", exc.message_dict)

    class ThroughAForm(Plain):
        config_form = type("SameFields", (forms.Form,), {})

    assert through_the_form(Plain) == through_the_form(ThroughAForm)


def test_store_config_drops_unknown_keys_and_stores_json():
    stored = task_configs.store_config(
        Mail, {"recipient": "a@example.com", "send_on": "2026-06-01", "evil": "<script>"}
    )
    assert stored == {
        "recipient": "a@example.com",
        "subject": "",
        "copies": None,
        "password": "",
        "send_on": "2026-06-01",
    }
    json.dumps(stored)


@pytest.mark.django_db
def test_model_choices_are_stored_as_primary_keys():
    one, two = Group.objects.create(name="one"), Group.objects.create(name="two")
    stored = task_configs.store_config(GroupTask, {"group": one.pk, "groups": [one.pk, two.pk]})
    assert stored["group"] == one.pk
    assert sorted(stored["groups"]) == sorted([one.pk, two.pk])
    # What was stored validates again (an edit sends it back).
    assert task_configs.clean_config(GroupTask, stored)["group"] == one


def test_to_json_turns_python_values_into_json():
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    value = {
        "when": dt.datetime(2026, 6, 1, 12, 30, tzinfo=dt.UTC),
        "day": dt.date(2026, 6, 1),
        "at": dt.time(6, 0),
        "wait": dt.timedelta(minutes=2),
        "amount": decimal.Decimal("1.50"),
        "id": ident,
        "tags": ("a", "b"),
        "set": frozenset({1}),
        3: "int key",
        "label": gettext_lazy("Pending"),
        "nested": {"list": [dt.date(2026, 1, 2)]},
    }
    assert task_configs.to_json(value) == {
        "when": "2026-06-01T12:30:00+00:00",
        "day": "2026-06-01",
        "at": "06:00:00",
        "wait": 120.0,
        "amount": "1.50",
        "id": str(ident),
        "tags": ["a", "b"],
        "set": [1],
        "3": "int key",
        "label": "Pending",
        "nested": {"list": ["2026-01-02"]},
    }
    json.dumps(task_configs.to_json(value))


def test_to_json_stores_a_uuid_primary_key_as_text():
    thing = Group(pk=7)
    assert task_configs.to_json(thing) == 7
    thing.pk = uuid.UUID(int=1)  # a model whose pk is a UUID
    assert task_configs.to_json(thing) == str(uuid.UUID(int=1))


# -- secrets --------------------------------------------------------------------------


def test_mask_secrets_hides_secret_values_only():
    shown = task_configs.mask_secrets(Mail, {"recipient": "a@example.com", "password": "hunter2"})
    assert shown == {"recipient": "a@example.com", "password": SECRET_MASK}


def test_mask_secrets_leaves_empty_secrets_empty():
    assert task_configs.mask_secrets(Mail, {"password": ""}) == {"password": ""}
    assert task_configs.mask_secrets(Mail, {"password": None}) == {"password": None}


def test_mask_secrets_does_not_change_the_stored_config():
    config = {"password": "hunter2"}
    task_configs.mask_secrets(Mail, config)
    assert config == {"password": "hunter2"}


def test_mask_secrets_without_a_task_type_or_config():
    assert task_configs.mask_secrets(None, {"password": "x"}) == {"password": "x"}
    assert task_configs.mask_secrets(Mail, None) == {}


@pytest.mark.parametrize("sent_back", [SECRET_MASK, "", None])
def test_merge_secrets_keeps_the_stored_secret_when_sent_back_masked_or_empty(sent_back):
    old = {"recipient": "a@example.com", "password": "hunter2"}
    new = {"recipient": "b@example.com", "password": sent_back}
    assert task_configs.merge_secrets(Mail, old, new) == {
        "recipient": "b@example.com",
        "password": "hunter2",
    }


def test_merge_secrets_keeps_the_stored_secret_when_left_out():
    assert task_configs.merge_secrets(
        Mail, {"password": "hunter2"}, {"recipient": "b@example.com"}
    ) == {
        "recipient": "b@example.com",
        "password": "hunter2",
    }


def test_merge_secrets_takes_a_new_secret():
    assert task_configs.merge_secrets(Mail, {"password": "old"}, {"password": "new"}) == {
        "password": "new"
    }


def test_merge_secrets_only_touches_secret_fields():
    merged = task_configs.merge_secrets(
        Mail, {"subject": "old", "password": "pw"}, {"subject": "", "password": ""}
    )
    assert merged == {"subject": "", "password": "pw"}


def test_merge_secrets_does_not_invent_a_secret():
    assert task_configs.merge_secrets(Mail, {}, {"password": SECRET_MASK}) == {
        "password": SECRET_MASK
    }


def test_merge_secrets_passes_a_non_object_through_for_clean_config_to_refuse():
    assert task_configs.merge_secrets(Mail, {"password": "pw"}, "oops") == "oops"
    with pytest.raises(ValidationError):
        task_configs.clean_config(
            Mail, task_configs.merge_secrets(Mail, {"password": "pw"}, "oops")
        )


def test_merge_does_not_change_its_inputs():
    old, new = {"password": "pw"}, {"password": ""}
    task_configs.merge_secrets(Mail, old, new)
    assert old == {"password": "pw"} and new == {"password": ""}


def test_the_old_module_name_still_imports_with_a_deprecation_warning():
    import importlib
    import sys

    sys.modules.pop("scheduler_app.configs", None)
    with pytest.warns(DeprecationWarning, match="task_configs"):
        old = importlib.import_module("scheduler_app.configs")
    from scheduler_app import task_configs

    assert old.masked_config is task_configs.masked_config
    assert old.SECRET_MASK == task_configs.SECRET_MASK
