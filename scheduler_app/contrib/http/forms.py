"""The configuration form of an HTTP request task."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from scheduler_app.task_configs import SECRET_MASK

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
STATUS_PART = re.compile(r"^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$")


def parse_headers(text: str) -> dict[str, str]:
    """``Name: value`` lines as a dict; ValidationError naming the bad line."""
    headers: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not HEADER_NAME.match(name):
            raise ValidationError(
                _("Line %(n)d is not “Name: value”."), code="bad_header", params={"n": number}
            )
        headers[name] = value.strip()
    return headers


def parse_statuses(text: str) -> list[tuple[int, int]]:
    """``"200-299, 304"`` as ranges; ValidationError for anything else."""
    ranges: list[tuple[int, int]] = []
    for part in (text or "").split(","):
        match = STATUS_PART.match(part)
        if not match:
            raise ValidationError(_("Give status codes like “200-299, 304”."), code="bad_status")
        low = int(match[1])
        high = int(match[2] or match[1])
        if not 100 <= low <= high <= 599:
            raise ValidationError(
                _("Status codes run from 100 to 599, low to high."), code="bad_status"
            )
        ranges.append((low, high))
    return ranges


def validate_destination(url: str) -> None:
    """Refuse a URL the outbound guard refuses without a look-up (a private address, ...).

    Names are resolved when the request is made, and checked again then.
    """
    from scheduler_app import outbound  # loaded when a form is validated, not with the provider

    problem = outbound.url_problem(url)
    if problem:
        raise ValidationError(
            _("This address may not be requested: %(reason)s."),
            code="refused_destination",
            params={"reason": problem},
        )


class HttpRequestForm(forms.Form):
    method = forms.ChoiceField(
        label=_("Method"), choices=[(m, m) for m in METHODS], initial="GET", required=False
    )
    url = forms.CharField(
        label=_("URL"),
        max_length=2000,
        validators=[URLValidator(schemes=["http", "https"]), validate_destination],
        help_text=_(
            "An http:// or https:// address on a public network, unless the site allows "
            "the network."
        ),
    )
    headers = forms.CharField(
        label=_("Headers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: Name: value."),
    )
    secret_headers = forms.CharField(
        label=_("Secret headers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Like headers (e.g. Authorization: Bearer …), but masked wherever the task is "
            "shown, logged or exported."
        ),
    )
    body = forms.CharField(
        label=_("Body"),
        required=False,
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    expected_status = forms.CharField(
        label=_("Expected status codes"),
        initial="200-299",
        max_length=200,
        required=False,
        help_text=_("E.g. 200-299, 304. Others fail the run."),
    )
    timeout = forms.FloatField(
        label=_("Timeout (seconds)"), min_value=0.1, max_value=600, initial=30, required=False
    )

    def clean_method(self) -> str:
        return self.cleaned_data.get("method") or "GET"

    def clean_headers(self) -> str:
        value = self.cleaned_data.get("headers") or ""
        parse_headers(value)
        return value.strip()

    def clean_secret_headers(self) -> str:
        value = self.cleaned_data.get("secret_headers") or ""
        if value == SECRET_MASK:
            return value  # an edit sent the stored secret back masked; the services keep it
        parse_headers(value)
        return value.strip()

    def clean_expected_status(self) -> str:
        value = (self.cleaned_data.get("expected_status") or "").strip() or "200-299"
        parse_statuses(value)
        return value

    def clean_timeout(self) -> float:
        value = self.cleaned_data.get("timeout")
        return 30.0 if value is None else value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("method") in ("GET", "HEAD") and data.get("body"):
            self.add_error(
                "body", _("A %(method)s request has no body.") % {"method": data["method"]}
            )
        return data
