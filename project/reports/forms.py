"""Config forms of the report task types.

Cleaned values are stored as JSON (a report becomes its pk) and cleaned again
before each run, so every field accepts its own stored value.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from project.reports.models import Report

MAX_RECIPIENTS = 50
DRIVE_RE = re.compile(r"^[A-Za-z]:")


class EmailListField(forms.Field):
    """E-mail addresses separated by commas, semicolons or spaces; cleans to a list."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> list[str]:
        if value in self.empty_values:
            return []
        if isinstance(value, (list, tuple)):
            items = [str(v) for v in value]
        else:
            items = re.split(r"[,;\s]+", str(value))
        return [item.strip() for item in items if item and item.strip()]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        invalid = []
        for address in value:
            try:
                validate_email(address)
            except ValidationError:
                invalid.append(address)
        if invalid:
            raise ValidationError(
                _("Not a valid e-mail address: %(addresses)s.") % {"addresses": ", ".join(invalid)},
                code="invalid_email",
            )
        if len(value) > MAX_RECIPIENTS:
            raise ValidationError(
                _("Send to at most %(max)d recipients.") % {"max": MAX_RECIPIENTS}, code="too_many"
            )

    def clean(self, value: Any) -> list[str]:
        # Drop repeated addresses, keeping the first spelling of each, in order.
        unique: dict[str, str] = {}
        for address in super().clean(value):
            unique.setdefault(address.lower(), address)
        return list(unique.values())

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, (list, tuple)) else value


def clean_storage_path(value: str) -> str:
    """Return ``value`` as a normalized relative storage path, or raise ValidationError."""
    path = (value or "").strip()
    if not path:
        raise ValidationError(_("Give a path."), code="required")
    if "\x00" in path or "\\" in path:
        raise ValidationError(
            _("Use forward slashes and no control characters."), code="invalid_path"
        )
    if path.startswith(("/", "~")) or DRIVE_RE.match(path):
        raise ValidationError(
            _("Give a path relative to the storage (e.g. exports/tasks.csv), not an absolute one."),
            code="absolute_path",
        )
    parts = [p for p in PurePosixPath(path).parts if p != "."]
    if ".." in parts:
        raise ValidationError(_("The path must not contain “..”."), code="path_traversal")
    if path.endswith("/") or not parts:
        raise ValidationError(_("The path must name a file, not a folder."), code="invalid_path")
    return "/".join(parts)


class ReportChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Report.objects.all())
        kwargs.setdefault("label", _("Report"))
        super().__init__(**kwargs)


class GenerateReportForm(forms.Form):
    report = ReportChoiceField()


class EmailReportForm(forms.Form):
    report = ReportChoiceField()
    recipients = EmailListField(
        label=_("Recipients"), help_text=_("E-mail addresses, separated by commas.")
    )
    subject = forms.CharField(
        label=_("Subject"),
        required=False,
        max_length=150,
        help_text=_("Empty: “Report: <report name>”."),
    )


class ExportReportForm(forms.Form):
    report = ReportChoiceField()
    path = forms.CharField(
        label=_("Storage path"),
        max_length=255,
        help_text=_(
            "Relative to the file storage, e.g. exports/{date}/users.csv; {date} becomes "
            "the run's date. The file is replaced on each run."
        ),
    )

    def clean_path(self) -> str:
        path = clean_storage_path(self.cleaned_data["path"])
        if "{" in path or "}" in path:
            unknown = set(re.findall(r"\{([^}]*)\}", path)) - {"date"}
            if unknown or path.count("{") != path.count("}"):
                raise ValidationError(
                    _("The only placeholder is {date}."), code="invalid_placeholder"
                )
        return path
