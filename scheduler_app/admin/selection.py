"""A changelist selection is checked before any action reads it.

Django's ``response_action`` filters the queryset by the posted
``_selected_action`` values as they are: text that is not an id (``abc``, ``1.5``,
an id wider than the column) raises when the action reads the queryset, a server
error instead of an answer. Only a forged post sends such values, so the whole
post is refused with one message and nothing is done.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext as _

from scheduler_app.bounds import MAX_ID_DIGITS

_ID = re.compile(rf"[0-9]{{1,{MAX_ID_DIGITS}}}", re.ASCII)


def is_row_id(field: models.Field, value: str) -> bool:
    """Whether ``value`` can name a row by the primary key ``field``."""
    if isinstance(field, models.IntegerField | models.AutoField):
        return _ID.fullmatch(value) is not None and int(value) >= 1
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


class CheckedSelectionAdmin(admin.ModelAdmin):
    """Refuses a selection holding a value that is not an id, before any action runs."""

    # Django 6 adds an ``action_location`` argument; 5.2 has none: pass on what came.
    def response_action(
        self, request: HttpRequest, queryset: Any, *args: Any, **kwargs: Any
    ) -> Any:
        pk = self.model._meta.pk
        assert pk is not None
        if not all(
            is_row_id(pk, value) for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        ):
            self.message_user(
                request, _("The selection was not understood; nothing was done."), messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset, *args, **kwargs)
