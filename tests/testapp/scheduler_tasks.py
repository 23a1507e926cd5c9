"""A test-only module: task types that succeed, fail, hang, exit and crash."""

import faulthandler
import os
import signal
import sys
import time

from django import forms

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, register


class RecordForm(forms.Form):
    note = forms.CharField(required=False, max_length=200)
    sleep = forms.FloatField(required=False, min_value=0)


class Record(SchedulableTask):
    name = "Record an execution"
    config_form = RecordForm

    def execute(self, context):
        from tests.testapp.models import Execution

        if context.config.get("sleep"):
            time.sleep(context.config["sleep"])
        Execution.objects.create(
            task_id=context.task_id,
            scheduled_for=context.scheduled_for,
            attempt=context.attempt,
            pid=os.getpid(),
            note=context.config.get("note") or "",
        )
        print(f"recorded {context.task_id}")
        return TaskResult.success("recorded", data={"task": context.task_id})


class Noop(SchedulableTask):
    name = "Do nothing"

    def execute(self, context):
        return TaskResult.success()


class Fail(SchedulableTask):
    name = "Fail"

    def execute(self, context):
        return TaskResult.failure("it failed on purpose")


class Raise(SchedulableTask):
    name = "Raise"

    def execute(self, context):
        raise RuntimeError("boom from the task body")


class Hang(SchedulableTask):
    name = "Hang"

    def execute(self, context):
        time.sleep(3600)
        return TaskResult.success()


class Exit(SchedulableTask):
    name = "sys.exit"

    def execute(self, context):
        sys.exit(3)


class HardExit(SchedulableTask):
    name = "os._exit"

    def execute(self, context):
        os._exit(7)


class Segfault(SchedulableTask):
    name = "Killed by a signal"

    def execute(self, context):
        # The crash is the point; the traceback dump pytest's faulthandler would print
        # for it (inherited by the worker) is noise in every test run.
        faulthandler.disable()
        os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(5)
        return TaskResult.success()


class NotYet(SchedulableTask):
    name = "Not ready yet"

    def execute(self, context):
        return TaskResult.pending()


class RecordPayload(SchedulableTask):
    name = "Record the event payload"

    def execute(self, context):
        import json

        from tests.testapp.models import Execution

        Execution.objects.create(
            task_id=context.task_id,
            scheduled_for=context.scheduled_for,
            attempt=context.attempt,
            pid=os.getpid(),
            note=json.dumps(context.payload, sort_keys=True),
        )
        return TaskResult.success()


class WhenGoRecorded(SchedulableTask):
    """Conditional: runs only once some execution has the note "go"."""

    name = "Record when told to go"

    def condition(self, context):
        from tests.testapp.models import Execution

        return Execution.objects.filter(note="go").exists()

    def execute(self, context):
        from tests.testapp.models import Execution

        Execution.objects.create(task_id=context.task_id, note="went", pid=os.getpid())
        return TaskResult.success()


@register
class TestProvider(TaskProvider):
    module_id = "testmod"
    name = "Test module"
    base_permission = "SA_TESTMOD"
    task_types = {
        "record": Record,
        "noop": Noop,
        "fail": Fail,
        "raise": Raise,
        "hang": Hang,
        "exit": Exit,
        "hard_exit": HardExit,
        "segfault": Segfault,
        "not_yet": NotYet,
        "record_payload": RecordPayload,
        "when_go": WhenGoRecorded,
    }
