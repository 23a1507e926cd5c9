"""Cron in words: cron-descriptor for the times, our own wording where the two day fields meet.

cron-descriptor reads the expression as written, so it is given a canonical
one (``3-3`` as ``3``, steps over ranges as the values they hit, 7 as 0), and
it does not know Vixie's day rule: when both day fields restrict, the day
clause is ours and says "or" (either field) or "that is also" (both).

One description, one language: cron-descriptor's words and ours follow the active
Django language of the call. cron-descriptor would otherwise read the process's
system locale (``locale.getlocale()``), which has nothing to do with the page's
language, so it is always given a locale explicitly. A language that either side
does not speak is described wholly in English rather than half in each.
"""

from __future__ import annotations

import calendar
import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import gettext as _

from scheduler_app.schedules.cronspec import CronSpec

_ALL_DAYS = tuple(range(1, 32))
_ALL_WEEKDAYS = frozenset(range(7))


ENGLISH = ("en", "en_US")
# The catalogues scheduler_app ships (its own wording of the day clauses).
_OWN_LOCALES = Path(__file__).resolve().parent.parent / "locale"


def describe_spec(spec: CronSpec) -> str:
    """A sentence for people: ``At 06:00, Monday through Friday``, in the active language."""
    language, descriptor_locale = description_language(
        translation.get_language() or settings.LANGUAGE_CODE
    )
    if language == ENGLISH[0]:
        with translation.override(language):
            return _describe(spec, language, descriptor_locale)
    return _describe(spec, language, descriptor_locale)


@lru_cache(maxsize=64)
def description_language(language: str) -> tuple[str, str]:
    """(Django language, cron-descriptor locale) a description in ``language`` is written in.

    ``language`` itself when both cron-descriptor and scheduler_app speak it, else English.
    """
    code = language.lower()
    if code == "en" or code.startswith("en-"):
        return language, ENGLISH[1]
    descriptor = _descriptor_locale(translation.to_locale(code))
    own = translation.to_locale(code)
    speaks = (_OWN_LOCALES / own).is_dir() or (_OWN_LOCALES / own.split("_")[0]).is_dir()
    return (language, descriptor) if descriptor and speaks else ENGLISH


def _descriptor_locale(locale: str) -> str | None:
    """The cron-descriptor catalogue for a Django locale (``de`` -> ``de_DE``), or None."""
    import cron_descriptor

    folder = Path(cron_descriptor.__file__).resolve().parent / "locale"
    known = sorted(path.stem for path in folder.glob("*.mo"))
    aliases = {"zh_Hans": "zh_CN", "zh_Hant": "zh_TW", "nb": "nb_NO", "no": "nb_NO"}
    wanted = aliases.get(locale, locale)
    if wanted in known:
        return wanted
    language = wanted.split("_")[0]
    same = [k for k in known if k.split("_")[0] == language]
    # de -> de_DE, pt -> pt_PT: the language's own country first.
    own_country = f"{language}_{language.upper()}"
    return own_country if own_country in same else (same[0] if same else None)


@lru_cache(maxsize=1024)
def _describe(spec: CronSpec, language: str, descriptor_locale: str) -> str:
    minute = _canonical(spec.fields[0], spec.minutes, 60)
    hour = _canonical(spec.fields[1], spec.hours, 24)
    month = _canonical(spec.fields[3], spec.months, 12)
    restricts_days = spec.days != _ALL_DAYS
    restricts_weekdays = spec.weekdays != _ALL_WEEKDAYS
    if spec.days_and and restricts_days and restricts_weekdays:
        return _("%(base)s, only on %(weekdays)s that is also day %(days)s of the month") % {
            "base": _descriptor(f"{minute} {hour} * {month} *", descriptor_locale),
            "weekdays": _weekday_words(spec.weekdays),
            "days": _day_words(spec.days),
        }
    if not spec.days_and and restricts_days and restricts_weekdays:
        return _("%(base)s, on day %(days)s of the month or on %(weekdays)s") % {
            "base": _descriptor(f"{minute} {hour} * {month} *", descriptor_locale),
            "days": _day_words(spec.days),
            "weekdays": _weekday_words(spec.weekdays),
        }
    # One field restricts (the other matches every day), or neither does. Either field
    # matching every day, when a day needs only one of them, makes every day match.
    days = _list(spec.days) if restricts_days and spec.days_and else "*"
    weekdays = _list(tuple(sorted(spec.weekdays))) if restricts_weekdays and spec.days_and else "*"
    return _descriptor(f"{minute} {hour} {days} {month} {weekdays}", descriptor_locale)


def _descriptor(expression: str, locale_code: str) -> str:
    from cron_descriptor import Options, get_description

    # Every option explicit: nothing is read from the process (its locale is global).
    options = Options(locale_code=locale_code, use_24hour_time_format=True, verbose=False)
    try:
        text = str(get_description(expression, options))
    except Exception:  # noqa: BLE001 - a description is cosmetic; fall back to the text
        return expression
    return _local_names(text)


def _local_names(text: str) -> str:
    """``text`` with day and month names in the active language.

    cron-descriptor takes them from the process's LC_TIME (``calendar.day_name``,
    ``strftime("%B")``), global to the process and unrelated to the page's language:
    they are replaced by Django's names (``WEEKDAYS``, ``MONTHS``: 0 is Monday, as in
    ``calendar``).
    """
    names = {calendar.day_name[i]: str(WEEKDAYS[i]) for i in range(7)}
    names.update({calendar.month_name[m]: str(MONTHS[m]) for m in range(1, 13)})
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b"
    )
    return pattern.sub(lambda m: names[m.group(1)], text)


def _canonical(text: str, values: tuple[int, ...], size: int) -> str:
    """The field as cron-descriptor reads it right: ``*``, ``*/n``, ``a-b/n`` or a plain list."""
    if len(values) == size:
        return "*"
    step = values[1] - values[0] if len(values) > 2 else 1
    if "," not in text and "/" in text and step > 1:
        return text if text.startswith("*/") else f"{values[0]}-{values[-1]}/{step}"
    return _list(values)


def _runs(values: tuple[int, ...]) -> list[tuple[int, int]]:
    """Sorted values as (first, last) runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _list(values: tuple[int, ...]) -> str:
    """``1,2,3,5`` as ``1-3,5``: runs of three or more as ranges."""
    items: list[str] = []
    for first, last in _runs(values):
        if last - first >= 2:
            items.append(f"{first}-{last}")
        else:
            items.extend(str(v) for v in range(first, last + 1))
    return ",".join(items)


def _alternatives(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return _("%(items)s or %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}


def _words(runs: list[tuple[str, str]]) -> str:
    items: list[str] = []
    for first, last in runs:
        items.append(
            first if first == last else _("%(first)s to %(last)s") % {"first": first, "last": last}
        )
    return _alternatives(items)


def _day_words(days: tuple[int, ...]) -> str:
    """``1 to 7``, ``1, 7 or 13``: the days of the month, as alternatives."""
    runs: list[tuple[str, str]] = []
    for first, last in _runs(days):
        if last - first >= 2:
            runs.append((str(first), str(last)))
        else:
            runs.extend((str(v), str(v)) for v in range(first, last + 1))
    return _words(runs)


def _weekday_words(weekdays: frozenset[int]) -> str:
    """``Monday to Friday``, ``Friday or Saturday``, Monday first (cron's 0 is Sunday)."""
    monday_first = tuple(sorted((day + 6) % 7 for day in weekdays))
    runs: list[tuple[str, str]] = []
    for first, last in _runs(monday_first):
        if last - first >= 2:
            runs.append((str(WEEKDAYS[first]), str(WEEKDAYS[last])))
        else:
            runs.extend((str(WEEKDAYS[v]), str(WEEKDAYS[v])) for v in range(first, last + 1))
    return _words(runs)
