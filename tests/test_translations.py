"""The German catalogue: complete, compiled, in step with the source, and used by the pages."""

from __future__ import annotations

import ast
import gettext
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from scheduler_app import services
from scheduler_app.models import ScheduledTask

PACKAGE = Path(__file__).resolve().parent.parent / "scheduler_app"
LOCALE = PACKAGE / "locale"
PO = LOCALE / "de" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
#: What to run when a test below finds the catalogue behind the source.
UPDATE = (
    "cd scheduler_app && django-admin makemessages -l de --no-obsolete, translate the new and "
    "fuzzy entries, then django-admin compilemessages -l de"
)


@dataclass(frozen=True)
class Entry:
    """One message of a .po file."""

    msgid: str
    msgid_plural: str
    msgstrs: tuple[str, ...]
    flags: frozenset[str]

    @property
    def msgstr(self) -> str:
        return self.msgstrs[0] if self.msgstrs else ""


def _unquote(lines: list[str]) -> str:
    raw = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', "\n".join(lines)))
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), raw)


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file, the header and obsolete (#~) entries left out."""
    entries = []
    for block in re.split(r"\n\s*\n", text):
        flags: set[str] = set()
        fields: dict[str, list[str]] = {}
        current = None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
            field = re.match(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (\".*)$", line)
            if field:
                current = field[1]
                fields[current] = [field[2]]
            elif line.startswith('"') and current:
                fields[current].append(line)
            else:
                current = None
        msgid = _unquote(fields.get("msgid", []))
        if not msgid:
            continue
        msgstrs = tuple(_unquote(v) for k, v in sorted(fields.items()) if k.startswith("msgstr"))
        entries.append(
            Entry(msgid, _unquote(fields.get("msgid_plural", [])), msgstrs, frozenset(flags))
        )
    return entries


def po_entries(text: str) -> dict[str, str]:
    """msgid -> first msgstr of each entry of a .po file."""
    return {entry.msgid: entry.msgstr for entry in parse_po(text)}


def unusable(entries: list[Entry]) -> list[str]:
    """The entries Django would not use: fuzzy, or with an empty msgstr (any plural form)."""
    problems = []
    for entry in entries:
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        elif not entry.msgstrs or not all(entry.msgstrs):
            problems.append(f"untranslated: {entry.msgid!r}")
    return problems


# Placeholders, and the HTML tags messages carry (not words in angle brackets like <name>).
PLACEHOLDER = re.compile(
    r"%\(\w+\)[-#0 +.\d]*[sdifr]|%%|%[sd]|\{\w+\}|</?(?:a|b|br|code|em|i|p|span|strong)\b"
)


def placeholders(text: str) -> list[str]:
    return sorted(set(PLACEHOLDER.findall(text)))


# -- extracting the messages of scheduler_app, as makemessages does, without gettext tools --

GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy"}
TRANSLATE_TAG = re.compile(r"""\{%\s*(?:trans|translate)\s+(?:"([^"]*)"|'([^']*)')""")
UNDERSCORE = re.compile(r"""\b_\(\s*(?:"([^"]*)"|'([^']*)')\s*\)""")
BLOCK = re.compile(
    r"\{%\s*blocktrans(?:late)?\b([^%]*)%\}(.*?)\{%\s*endblocktrans(?:late)?\s*%\}", re.S
)


def python_messages(source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in GETTEXT_CALLS:
            continue
        for arg in node.args[: 2 if name.startswith("n") else 1]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield arg.value


def template_messages(source: str) -> Iterator[str]:
    # Django doubles "%" in template messages so that gettext does not read it as a format.
    for match in TRANSLATE_TAG.finditer(source):
        yield (match[1] if match[1] is not None else match[2]).replace("%", "%%")
    for match in UNDERSCORE.finditer(source):
        yield (match[1] if match[1] is not None else match[2]).replace("%", "%%")
    for match in BLOCK.finditer(source):
        for part in re.split(r"\{%\s*plural\s*%\}", match[2]):
            text = part.replace("%", "%%")
            text = re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", text)
            if "trimmed" in match[1].split():
                text = re.sub(r"\s*\n\s*", " ", text.strip())
            yield text


def source_messages() -> dict[str, Path]:
    """Every message scheduler_app marks for translation -> the first file that marks it."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix == ".py":
            messages = python_messages(path.read_text(encoding="utf-8"))
        elif path.suffix in {".html", ".txt"} and "templates" in path.parts:
            messages = template_messages(path.read_text(encoding="utf-8"))
        else:
            continue
        for message in messages:
            if message:
                found.setdefault(message, path.relative_to(PACKAGE))
    return found


# -- the catalogue ---------------------------------------------------------------------------


def test_no_german_message_is_untranslated_or_fuzzy():
    entries = parse_po(PO.read_text(encoding="utf-8"))
    assert len(entries) > 400
    problems = unusable(entries)
    assert not problems, f"{len(problems)} unusable entries in {PO}; {UPDATE}:\n" + "\n".join(
        problems[:20]
    )


def test_the_check_finds_fuzzy_and_untranslated_entries():
    sample = (
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n\n'
        '#, fuzzy, python-format\nmsgid "Paused %(n)d"\nmsgstr "Fortgesetzt %(n)d"\n\n'
        'msgid "Edges"\nmsgstr ""\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "eins"\nmsgstr[1] ""\n\n'
        'msgid "Save"\nmsgstr ""\n"Speichern"\n'
    )
    assert unusable(parse_po(sample)) == [
        "fuzzy: 'Paused %(n)d'",
        "untranslated: 'Edges'",
        "untranslated: 'one'",
    ]


def test_every_message_of_scheduler_app_is_in_the_german_catalogue():
    catalogue = {entry.msgid for entry in parse_po(PO.read_text(encoding="utf-8"))}
    catalogue |= {entry.msgid_plural for entry in parse_po(PO.read_text(encoding="utf-8"))}
    missing = {msg: path for msg, path in source_messages().items() if msg not in catalogue}
    assert len(source_messages()) > 400
    assert not missing, f"{len(missing)} messages are not in {PO.name}; {UPDATE}:\n" + "\n".join(
        f"{path}: {msg!r}" for msg, path in list(missing.items())[:20]
    )


def test_translations_keep_the_placeholders_and_tags_of_their_message():
    wrong = []
    for entry in parse_po(PO.read_text(encoding="utf-8")):
        for index, msgstr in enumerate(entry.msgstrs):
            msgid = entry.msgid_plural if index and entry.msgid_plural else entry.msgid
            expected = placeholders(msgid)
            # A singular may name the count in words ("Every minute" for "%(count)d").
            if index == 0 and entry.msgid_plural and set(placeholders(msgstr)) <= set(expected):
                continue
            if placeholders(msgstr) != expected:
                wrong.append(f"{msgid!r} -> {msgstr!r}")
    assert not wrong, "\n".join(wrong)


def test_the_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    stale = [
        entry.msgid
        for entry in parse_po(PO.read_text(encoding="utf-8"))
        if entry.msgstrs
        != (
            (catalog.ngettext(entry.msgid, entry.msgid_plural, 1),)
            + (catalog.ngettext(entry.msgid, entry.msgid_plural, 2),)
            if entry.msgid_plural
            else (catalog.gettext(entry.msgid),)
        )
    ]
    assert not stale, f"{MO.name} is older than {PO.name}; run compilemessages: {stale[:5]}"


# -- German in use ---------------------------------------------------------------------------


def test_activating_german_translates_model_and_form_labels():
    with translation.override("de"):
        assert str(ScheduledTask._meta.verbose_name) == "geplante Aufgabe"
        assert str(ScheduledTask._meta.get_field("next_run").verbose_name) == "nächste Ausführung"
        assert translation.gettext("Run now") == "Jetzt ausführen"


def test_the_admin_speaks_german_to_a_german_browser(admin_client):
    response = admin_client.get("/admin/scheduler_app/scheduledtask/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ausgewählte Aufgaben pausieren" in page
    assert "Zeitpläne der ausgewählten Aufgaben beenden" in page
    assert "Geplante Aufgaben" in page or "geplante Aufgaben" in page


@pytest.fixture
def german_task(admin_user):
    return services.schedule(
        user=admin_user,
        module="testmod",
        task_type="record",
        schedule_type="cron",
        cron="0 6 * * *",
        name="nightly",
        config={},
    )


def test_the_task_page_shows_its_audit_trail_and_live_runs_in_german(admin_client, german_task):
    url = reverse("admin:scheduler_app_scheduledtask_change", args=[german_task.pk])
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<h2>Protokoll</h2>" in page
    assert "<h2>Live-Ausführungen</h2>" in page
    assert "Zeitplan beenden …" in page
    assert "Audit trail" not in page


def test_the_workflow_page_speaks_german(admin_client, german_task):
    url = reverse("admin:scheduler_app_workflowrun_task", args=[german_task.pk])
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Workflow von „nightly“" in page
    assert "Noch keine Verknüpfungen" in page
    assert "Eine Verknüpfung hinzufügen" in page


def test_the_approvals_page_speaks_german(admin_client):
    page = admin_client.get(
        reverse("scheduler_app:approvals"), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "<title>Genehmigungen" in page or "<h1>Genehmigungen</h1>" in page
    assert "Keine Genehmigungsanfragen für Sie." in page
    assert "Abmelden" in page


def test_a_service_refuses_in_german(german_task, admin_user):
    services.pause(german_task, user=admin_user)
    with translation.override("de"), pytest.raises(ValidationError) as refused:
        services.pause(german_task, user=admin_user)
    assert "Die Aufgabe ist bereits pausiert." in str(refused.value)
