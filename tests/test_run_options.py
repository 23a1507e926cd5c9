"""One declaration of the run options (models.run_options), and the places that derive from it."""

from __future__ import annotations

import inspect

import pytest
from django.core.exceptions import ValidationError

from scheduler_app import services
from scheduler_app.admin.forms import ADMIN_EDITABLE
from scheduler_app.admin.task_admin import ScheduledTaskAdmin
from scheduler_app.api.serializers import TaskCreateSerializer, TaskSerializer, TaskUpdateSerializer
from scheduler_app.forms import OPTION_FIELDS, TaskOptionsForm
from scheduler_app.models import ScheduledTask, run_options
from scheduler_app.services import EDITABLE_FIELDS, audit, transfer, transfer_plan, transfer_schema
from scheduler_app.services.arguments import CHECKS
from scheduler_app.services.transfer_export import task_entry

OPTIONS = set(run_options.NAMES)
WITH_ENABLED = OPTIONS | {run_options.ENABLED}
NUMBERS = [o for o in run_options.OPTIONS if o.is_number]


def test_every_option_is_a_column_of_the_task_model():
    names = {f.name for f in ScheduledTask._meta.get_fields()}
    assert WITH_ENABLED <= names


def test_the_places_that_keep_run_options_name_the_same_ones():
    assert WITH_ENABLED <= set(ADMIN_EDITABLE)
    [options] = [f for name, f in ScheduledTaskAdmin.fieldsets if str(name) == "Options"]
    assert tuple(options["fields"]) == run_options.NAMES
    assert WITH_ENABLED <= set(audit.TRACKED_FIELDS)
    assert WITH_ENABLED <= set(EDITABLE_FIELDS)
    assert transfer_plan.OPTIONS == run_options.NAMES
    assert WITH_ENABLED <= set(transfer.FIELDS)
    assert WITH_ENABLED <= set(transfer_schema.TASK_SCHEMA)
    assert OPTIONS <= set(TaskCreateSerializer().fields)
    assert WITH_ENABLED <= set(TaskUpdateSerializer().fields)
    assert WITH_ENABLED <= set(TaskSerializer.Meta.fields)
    assert WITH_ENABLED <= set(CHECKS)
    keywords = set(inspect.signature(services.schedule).parameters)
    assert OPTIONS <= keywords


def test_the_scheduling_form_offers_the_options_declared_for_it():
    offered = set(TaskOptionsForm.base_fields) & WITH_ENABLED
    assert offered == set(run_options.SCHEDULING_FORM_NAMES) | {run_options.ENABLED}
    assert set(OPTION_FIELDS) - {"name"} == offered


@pytest.mark.parametrize(
    "option", [o for o in NUMBERS if o.on_scheduling_form], ids=lambda o: o.name
)
def test_the_scheduling_form_bounds_numbers_as_declared(option):
    field = TaskOptionsForm.base_fields[option.name]
    assert (field.min_value, field.max_value) == (option.lowest, option.highest)


@pytest.mark.parametrize("option", NUMBERS, ids=lambda o: o.name)
def test_a_transfer_file_is_bounded_as_declared(option):
    _required, check = transfer_schema.TASK_SCHEMA[option.name]
    check(option.lowest)
    check(option.highest)
    for outside in (option.lowest - 1, option.highest + 1):
        with pytest.raises(transfer_schema.Invalid):
            check(outside)
    if option.nullable:
        check(None)
    else:
        with pytest.raises(transfer_schema.Invalid):
            check(None)


@pytest.mark.parametrize("option", NUMBERS, ids=lambda o: o.name)
def test_the_services_bound_numbers_as_declared(make_task, option):
    task = make_task()
    services.validate_update(task, user=None, **{option.name: option.highest})
    with pytest.raises(ValidationError) as caught:
        services.validate_update(task, user=None, **{option.name: option.highest + 1})
    assert option.name in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        make_task(**{option.name: option.lowest - 1})
    assert option.name in caught.value.message_dict


def test_an_export_carries_every_option_under_its_name(make_task):
    task = make_task(priority=3, tags=["nightly"], misfire_grace=60)
    entry = task_entry(task)
    assert WITH_ENABLED <= set(entry)
    assert (entry["priority"], entry["tags"], entry["misfire_grace"]) == (3, ["nightly"], 60)
