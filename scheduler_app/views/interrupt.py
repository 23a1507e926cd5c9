"""The "Stop" button of an open run (task page, log page): asks services.interrupt."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from scheduler_app import policy, services
from scheduler_app.views.pages import scheduler_page
from scheduler_app.views.scheduling import task_page_url


@scheduler_page
@require_POST
@login_required
def stop_run(request: HttpRequest, log_id: int) -> HttpResponse:
    """Ask the scheduler running this run to stop it; back to ``next`` or the task page."""
    log = policy.viewable_logs(request.user).select_related("task").filter(pk=log_id).first()
    if log is None:
        raise Http404(_("No such run."))
    try:
        services.interrupt(log, user=request.user)
    except PermissionDenied as error:
        raise PermissionDenied(str(error) or _("You may not stop runs of this task.")) from None
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _(
                "Asked the scheduler to stop run %(run)s of “%(name)s”; the log "
                "will say cancelled when it has stopped."
            )
            % {"run": log.run_id[:8], "name": log.task.name},
        )
    target = request.POST.get("next", "")
    if not (
        target
        and url_has_allowed_host_and_scheme(
            target, {request.get_host()}, require_https=request.is_secure()
        )
    ):
        target = task_page_url(log.task, request.user)
    return HttpResponseRedirect(target)
