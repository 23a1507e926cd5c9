"""A task's run options, declared once: how it runs, not when (that is ``schedules.fields``).

Each option has one name everywhere: the ``ScheduledTask`` column, the keyword of
``services.schedule`` / ``services.update``, the key of API bodies and transfer files,
and the field of the admin's and the scheduling form. The admin form and fieldset,
the audit diff, ``services.EDITABLE_FIELDS``, the transfer files, the scheduling form
and the API serializers read their lists (and the number bounds) from here;
``tests/test_run_options.py`` checks that every place agrees.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Seconds in a day: the bounds below are counted in them.
DAY = 24 * 3600


@dataclass(frozen=True)
class RunOption:
    """One run option: its name and, for a number, the values it may take."""

    name: str
    #: A whole number's bounds (both inclusive); None for a flag, a choice or the tags.
    lowest: int | None = None
    highest: int | None = None
    #: None is a value: the task type's or the site's default applies.
    nullable: bool = False
    #: Offered by the scheduling form (the pages); the misfire options are left to the
    #: admin, the API and transfer files, which show every option.
    on_scheduling_form: bool = True

    @property
    def is_number(self) -> bool:
        return self.lowest is not None


PRIORITY = RunOption("priority", 1, 10)
MAX_RETRIES = RunOption("max_retries", 0, 100, nullable=True)
TIMEOUT = RunOption("timeout", 1, 7 * DAY, nullable=True)
ALLOW_OVERLAP = RunOption("allow_overlap")
MISFIRE_POLICY = RunOption("misfire_policy", on_scheduling_form=False)
MISFIRE_GRACE = RunOption("misfire_grace", 0, 365 * DAY, nullable=True, on_scheduling_form=False)
TAGS = RunOption("tags")

#: The run options, in the order forms and files show them.
OPTIONS = (PRIORITY, MAX_RETRIES, TIMEOUT, ALLOW_OVERLAP, MISFIRE_POLICY, MISFIRE_GRACE, TAGS)
NAMES = tuple(o.name for o in OPTIONS)
#: The options of the scheduling form.
SCHEDULING_FORM_NAMES = tuple(o.name for o in OPTIONS if o.on_scheduling_form)
BY_NAME = {o.name: o for o in OPTIONS}

#: Whether the task runs at all. Edited beside the run options, but shown with the task's
#: state (the admin's first fieldset) and carried by transfer files next to ``paused``.
ENABLED = "enabled"
