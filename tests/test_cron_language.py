"""Cron descriptions speak one language: the active Django language of the call.

cron-descriptor reads the process's system locale (for its sentences and, through
``calendar`` and ``strftime``, for day and month names); scheduler_app words the
day clauses itself. Neither may leak into a page in another language, whatever
other threads describe at the same time.
"""

from __future__ import annotations

import calendar
import re
import threading

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler_app import schedules
from scheduler_app.schedules import crondescribe

ENGLISH_WORDS = re.compile(
    r"\b(At|Every|every|through|only|on day|of the month|minutes?|between|and|or"
    r"|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
    r"|January|February|March|May|June|July|October|December)\b"
)
GERMAN_WORDS = re.compile(
    r"\b(Um|Alle|alle|bis|nur|am|im|Tag|Monats|Minuten?|zwischen|und|oder"
    r"|Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag"
    r"|Januar|Februar|März|Mai|Juni|Juli|Oktober|Dezember)\b"
)
EXPRESSIONS = [
    "0 6 * * 1-5",
    "0 6 1 * 1",
    "*/15 9-17 * 1,3 *",
    "0 0 * 2-4 0",
    "30 2 1-7 * 1",
    "0 12 * * 6,0",
    "0 6 13 * 5",
    "0 0 1 1 *",
]

field = st.one_of(st.just("*"), st.integers(0, 5).map(str))
CRONS = st.one_of(
    st.sampled_from(EXPRESSIONS),
    st.builds(
        lambda m, h, dom, mon, dow: f"{m} {h} {dom} {mon} {dow}",
        st.sampled_from(["0", "*/10", "15,45", "5-20"]),
        st.sampled_from(["*", "6", "9-17", "*/3", "1,13"]),
        st.sampled_from(["*", "1", "1-7", "13", "*/5"]),
        st.sampled_from(["*", "1", "2-4", "6,12", "*/2"]),
        st.sampled_from(["*", "1-5", "0", "6,0", "*/2", "3"]),
    ),
)


def describe(expression: str, language: str) -> str:
    with translation.override(language):
        return schedules.describe_cron(expression)


def assert_one_language(text: str, language: str) -> None:
    foreign = GERMAN_WORDS if language == "en" else ENGLISH_WORDS
    found = foreign.findall(text)
    assert not found, f"{language} description {text!r} has {found}"


@settings(max_examples=200, deadline=None, derandomize=True)
@given(expression=CRONS, language=st.sampled_from(["en", "de"]))
def test_every_description_is_in_one_language(expression, language):
    assert_one_language(describe(expression, language), language)


def test_german_descriptions_name_days_and_months_in_german():
    assert describe("0 6 * * 1-5", "de") == "Um 06:00, Montag bis Freitag"
    assert describe("0 0 * 2-4 0", "de") == "Um 00:00, nur am Sonntag, Februar bis April"
    assert describe("0 6 * * 1-5", "en") == "At 06:00, Monday through Friday"


def test_two_languages_interleaved_across_threads_never_mix():
    expected = {
        (expression, language): describe(expression, language)
        for expression in EXPRESSIONS
        for language in ("en", "de")
    }
    crondescribe._describe.cache_clear()  # every thread computes, none only reads the cache
    problems: list[str] = []
    start = threading.Barrier(8)

    def work(offset: int) -> None:
        start.wait()
        for round_ in range(60):
            language = ("en", "de")[(offset + round_) % 2]
            expression = EXPRESSIONS[(offset * 3 + round_) % len(EXPRESSIONS)]
            got = describe(expression, language)
            if got != expected[expression, language]:
                problems.append(f"{language} {expression}: {got!r}")
            if round_ % 7 == 0:
                crondescribe._describe.cache_clear()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []


def test_a_language_only_one_side_speaks_is_described_wholly_in_english():
    # cron-descriptor speaks French, scheduler_app's catalogue does not: all English.
    text = describe("0 6 1 * 1", "fr")
    assert text == describe("0 6 1 * 1", "en")
    assert crondescribe.description_language("fr") == ("en", "en_US")
    assert crondescribe.description_language("de-at") == ("de-at", "de_DE")
    assert crondescribe.description_language("en-gb") == ("en-gb", "en_US")


@pytest.fixture
def german_server(monkeypatch):
    """A server whose system locale is German (LANG=de_DE.UTF-8).

    No German locale is installed on the test machines, so what the C library would
    answer is set on the two places that read it: the locale name cron-descriptor
    asks for, and the day and month names of ``calendar``.
    """
    import locale

    monkeypatch.setattr(locale, "getlocale", lambda *a: ("de_DE", "UTF-8"))
    days = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
    months = ["", "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August"]
    months += ["September", "Oktober", "November", "Dezember"]
    monkeypatch.setattr(calendar, "day_name", days)
    monkeypatch.setattr(calendar, "month_name", months)
    crondescribe._describe.cache_clear()
    yield
    crondescribe._describe.cache_clear()


def test_an_english_page_on_a_german_server_is_english(german_server):
    for expression in EXPRESSIONS:
        assert_one_language(describe(expression, "en"), "en")
    assert describe("0 0 * 2-4 0", "en") == "At 00:00, only on Sunday, February through April"
