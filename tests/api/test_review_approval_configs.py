"""Review probe: any configuration of an approval step sent to the API is scheduled or is a
400 naming the field; never a 500, and nothing saved on a refusal."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app.models import ScheduledTask
from scheduler_app.policy import permissions
from tests.api.conftest import API

FIELDS = [
    "title",
    "message",
    "permission",
    "group",
    "escalate_after_minutes",
    "escalation_permission",
    "escalation_group",
    "expire_after_minutes",
    "channels",
]
VALUES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["SA_TESTMOD_ADMIN", "Publish?", "email", "a\nb", "x" * 300, "0"])
    | st.lists(st.sampled_from(["email", "in_app", "sms"]), max_size=3)
)


@settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(config=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6))
def test_any_approval_config_is_scheduled_or_a_field_error(client_for, make_user, config):
    admin = make_user(permissions.SCHEDULER_ADMIN)
    before = ScheduledTask.objects.count()
    body = {
        "module": "workflow",
        "task_type": "approval",
        "schedule_type": "event",
        "event": "never",
        "config": config,
    }
    response = client_for(admin).post(
        f"{API}tasks/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code in (201, 400), (config, response.content[:300])
    if response.status_code == 400:
        assert response.json()["errors"]
        assert ScheduledTask.objects.count() == before
