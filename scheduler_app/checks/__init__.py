"""System checks: ``scheduler_app.E0xx`` errors and ``W0xx`` warnings, each with a hint.

One module per concern; importing this package registers them all
(``SchedulerConfig.ready``).

E001 duplicate module id      E002 bad module id          E003 bad permission name
E004 no base permission       E005 bad task type key      E006 not a SchedulableTask
E007 execute() missing        E008 config_form not a form E009 task_types not a dict
W002 provider without task types                          (``providers.py``)
E010 SCHEDULER not a dict     E011 unknown SCHEDULER key  E012 bad EXECUTION
E013 bad number setting       E014 LOCK_CACHE not a cache E015 TASKS_BACKEND not in TASKS
E016 bad text/flag setting    W001 process-local lock cache (``settings.py``)
E020 bad SCHEDULER["ALERTS"]  E021 HEALTH_TOKEN not a string
E030 bad OUTBOUND_ALLOWED_NETWORKS                W030 alert webhook at a refused address
E031 bad OUTBOUND_PROXY
E040 bad API_THROTTLE_RATES                       (``integrations.py``, run by ``check_settings``)
W020 scheduler silent         W021 tasks overdue  (``watchdog.py``)
W022 stored cron refused (``stored_cron.py``)
(W020-W022: ``check --database default`` only)
W003 admin without scheduler_app.urls (``routing.py``)
E050 bad APPROVAL_LINK_* setting  W050 approval step nobody may decide (``approvals.py``)
E060 bad HOOKS_* setting      W060 inbound hook without a secret (``inbound_hooks.py``)
"""

from scheduler_app.checks import approvals, inbound_hooks, routing, stored_cron
from scheduler_app.checks.providers import check_providers, provider_messages
from scheduler_app.checks.settings import check_settings
from scheduler_app.checks.watchdog import check_watchdog

__all__ = [
    "approvals",
    "inbound_hooks",
    "routing",
    "stored_cron",
    "check_providers",
    "check_settings",
    "check_watchdog",
    "provider_messages",
]
