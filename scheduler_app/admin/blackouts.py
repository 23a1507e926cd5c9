"""Admin of blackout calendars (with .ics import), pause windows and calendar-feed tokens.

Calendars are edited by scheduler admins; pause windows are opened and ended
through :mod:`scheduler_app.services.pause_windows` (module admins for their module);
feed tokens are only revoked here (each user makes their own on the feed page).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from scheduler_app import conf, policy
from scheduler_app.admin.auditing import FromAdmin
from scheduler_app.admin.read_only import ReadOnlyAdmin, is_staff
from scheduler_app.admin.selection import CheckedSelectionAdmin
from scheduler_app.models import BlackoutCalendar, BlackoutPeriod, FeedToken, PauseWindow
from scheduler_app.registry import registry
from scheduler_app.services import calendars, pause_windows


def _reason(error: Exception) -> str:
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


# --- calendars -------------------------------------------------------------------


#: Where CalendarForm leaves the periods of a valid .ics file (and whether they replace the
#: others) for PeriodFormSet: the admin gives the form's instance to the formsets and cleans
#: the form first, so the formset can check the calendar as it will be after the save.
PENDING_ICS = "_scheduler_pending_ics"


class PeriodFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("start_date"):
                continue
            rows.append(
                calendars.Period(
                    data["start_date"],
                    data.get("end_date") or data["start_date"],
                    data.get("start_time"),
                    data.get("end_time"),
                    data.get("label") or "",
                )
            )
        from_file, replace = getattr(self.instance, PENDING_ICS, ([], False))
        # All or nothing: the rows and the file's events are checked together, before any save.
        calendars.check_periods(from_file if replace else [*rows, *from_file])


class PeriodInline(admin.TabularInline):
    model = BlackoutPeriod
    formset = PeriodFormSet
    fields = ("label", "start_date", "start_time", "end_date", "end_time")
    extra = 1


class CalendarForm(forms.ModelForm):
    ics_file = forms.FileField(
        label=gettext_lazy("Import an .ics file"),
        required=False,
        help_text=gettext_lazy("Its events are added as periods (all-day events as whole days)."),
    )
    replace_periods = forms.BooleanField(
        label=gettext_lazy("Replace the periods"),
        required=False,
        help_text=gettext_lazy("With an .ics file: drop the calendar's periods first."),
    )

    class Meta:
        model = BlackoutCalendar
        fields = ("name", "description", "timezone")

    def clean_timezone(self) -> str:
        try:
            return calendars.check_zone(self.cleaned_data.get("timezone") or "")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["timezone"]) from None

    def clean_ics_file(self) -> list[calendars.Period] | None:
        upload = self.cleaned_data.get("ics_file")
        if not upload:
            return None
        limit = conf.get().CALENDAR_MAX_BYTES
        if upload.size is None or upload.size > limit:
            raise ValidationError(
                _("The file is larger than %(limit)d bytes.") % {"limit": limit}, code="too_large"
            )
        return calendars.parse_ics(upload.read(limit + 1))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        periods = data.get("ics_file")
        if periods:
            setattr(self.instance, PENDING_ICS, (periods, bool(data.get("replace_periods"))))
        return data


@admin.register(BlackoutCalendar)
class BlackoutCalendarAdmin(FromAdmin, CheckedSelectionAdmin):
    form = CalendarForm
    inlines = (PeriodInline,)
    list_display = ("name", "timezone_display", "period_count", "task_count")
    search_fields = ("name",)
    fields = ("name", "description", "timezone", "ics_file", "replace_periods")

    def get_queryset(self, request: HttpRequest) -> Any:
        return policy.viewable_calendars(request.user, super().get_queryset(request)).annotate(
            n_periods=Count("periods", distinct=True), n_tasks=Count("tasks", distinct=True)
        )

    @admin.display(description=gettext_lazy("time zone"))
    def timezone_display(self, obj: BlackoutCalendar) -> str:
        return obj.timezone or _("each task's own")

    @admin.display(description=gettext_lazy("periods"), ordering="n_periods")
    def period_count(self, obj: BlackoutCalendar) -> int:
        return getattr(obj, "n_periods", 0)

    @admin.display(description=gettext_lazy("tasks"), ordering="n_tasks")
    def task_count(self, obj: BlackoutCalendar) -> int:
        return getattr(obj, "n_tasks", 0)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_staff(request) and policy.can_manage_calendars(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        periods = form.cleaned_data.get("ics_file")
        if not periods:
            return
        # Checked with the rows by PeriodFormSet; an error now (a concurrent change) propagates
        # and the admin's transaction saves nothing of this form.
        added = calendars.add_periods(
            form.instance,
            periods,
            user=request.user,
            replace=form.cleaned_data.get("replace_periods", False),
        )
        messages.success(
            request,
            ngettext("Imported %(count)d period.", "Imported %(count)d periods.", added)
            % {"count": added},
        )


# --- pause windows ---------------------------------------------------------------


class PauseWindowForm(forms.ModelForm):
    module_id = forms.ChoiceField(label=gettext_lazy("module"), required=False)

    class Meta:
        model = PauseWindow
        fields = ("module_id", "reason", "starts_at", "ends_at")

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        choices = [
            (m, str(registry.get(m).verbose_name())) for m in policy.administered_modules(user)
        ]
        if policy.is_scheduler_admin(user):
            choices.insert(0, ("", _("Every module")))
        field = self.fields["module_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            pause_windows.check_window(
                user=self.user,
                module_id=data.get("module_id"),
                until=data.get("ends_at"),
                reason=data.get("reason") or "",
                starts_at=data.get("starts_at"),
            )
        except PermissionDenied as exc:
            raise ValidationError(str(exc)) from None
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(PauseWindow)
class PauseWindowAdmin(FromAdmin, CheckedSelectionAdmin):
    form = PauseWindowForm
    list_display = ("scope", "reason", "starts_at", "ends_at", "state", "task_count", "created_by")
    list_filter = ("module_id",)
    readonly_fields = ("created_by", "created_at", "lifted_at", "lifted_by")
    actions = ("end_now",)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class WithUser(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, user=request.user, **kw)

        return WithUser

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = (
            super()
            .get_queryset(request)
            .annotate(n_tasks=Count("tasks"))
            .select_related("created_by")
        )
        return pause_windows.viewable_windows(request.user, qs)

    @admin.display(description=gettext_lazy("module"), ordering="module_id")
    def scope(self, obj: PauseWindow) -> str:
        return obj.module_id or _("every module")

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj: PauseWindow) -> str:
        now = timezone.now()
        if obj.lifted_at is not None:
            return _("ended")
        if obj.starts_at > now:
            return _("scheduled")
        return _("active")

    @admin.display(description=gettext_lazy("paused tasks"), ordering="n_tasks")
    def task_count(self, obj: PauseWindow) -> int:
        return getattr(obj, "n_tasks", 0)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_staff(request) and bool(policy.administered_modules(request.user))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a window is opened and ended, not edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: PauseWindow, form: Any, change: bool) -> None:
        data = form.cleaned_data
        window = pause_windows.open_window(
            user=request.user,
            module_id=data.get("module_id"),
            until=data["ends_at"],
            reason=data["reason"],
            starts_at=data.get("starts_at"),
        )
        obj.pk = window.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The window's tasks are set by ``pause_windows``, not by the form."""

    @admin.action(description=gettext_lazy("End now and resume their tasks"), permissions=["view"])
    def end_now(self, request: HttpRequest, queryset: Any) -> None:
        resumed = 0
        for window in queryset.filter(lifted_at__isnull=True):
            try:
                resumed += pause_windows.lift(window, user=request.user)
            except PermissionDenied as error:
                messages.warning(
                    request,
                    _("Not ended “%(window)s”: %(reason)s")
                    % {"window": window, "reason": _reason(error)},
                )
        messages.success(
            request,
            ngettext("Resumed %(count)d task.", "Resumed %(count)d tasks.", resumed)
            % {"count": resumed},
        )


# --- calendar-feed tokens --------------------------------------------------------


@admin.register(FeedToken)
class FeedTokenAdmin(ReadOnlyAdmin):
    list_display = ("user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("=user__username",)
    fields = ("user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request).select_related("user")
        return qs if policy.is_scheduler_admin(request.user) else qs.filter(user=request.user)

    @admin.action(description=gettext_lazy("Revoke the selected feed links"), permissions=["view"])
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        from scheduler_app.services import feeds

        count = feeds.revoke_tokens(queryset, user=request.user)
        messages.success(
            request,
            ngettext("Revoked %(count)d feed link.", "Revoked %(count)d feed links.", count)
            % {"count": count},
        )
