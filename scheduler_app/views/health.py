"""The JSON health endpoint for load balancers and uptime monitors.

``GET <scheduler urls>/health/`` answers 200 when a scheduler passes and no
task is overdue, 503 otherwise. Who may read it:

* a monitor sending ``SCHEDULER["HEALTH_TOKEN"]`` as ``Authorization: Bearer
  <token>`` (or ``?token=<token>``): it gets the status without task names or hosts;
* a logged-in user who may view every task (``SA_SCHEDULER_VIEW``, scheduler admins).

Anyone else gets 403 (401 without credentials), never the status.
"""

from __future__ import annotations

import hmac

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from scheduler_app import conf, policy
from scheduler_app.monitoring import watchdog


def _token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.GET.get("token", "")


def _token_ok(given: str) -> bool:
    expected = conf.get().HEALTH_TOKEN
    if not (isinstance(expected, str) and expected and given):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """The watchdog's status as JSON: 200 healthy, 503 unhealthy."""
    user = request.user
    if policy.can_view_all(user):
        names = True
    elif _token_ok(_token(request)):
        names = False
    elif getattr(user, "is_authenticated", False) or _token(request):
        return JsonResponse({"detail": "You may not read the scheduler's health."}, status=403)
    else:
        response = JsonResponse({"detail": "Send the health token or log in."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="scheduler"'
        return response
    found = watchdog.status(timezone.now())
    return JsonResponse(found.as_json(names=names), status=200 if found.healthy else 503)
