"""The German catalogue: compiled, complete, and used by the admin and the models."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

from django.utils import translation

from scheduler_app.models import ScheduledTask

LOCALE = Path(__file__).resolve().parent.parent / "scheduler_app" / "locale"
PO = LOCALE / "de" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def po_entries(text: str) -> dict[str, str]:
    """msgid -> first msgstr of each entry of a .po file (the header left out)."""

    def unquote(lines: list[str]) -> str:
        raw = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', "\n".join(lines)))
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), raw)

    entries = {}
    for block in text.split("\n\n"):
        if "#, fuzzy" in block and 'msgid ""\nmsgstr ""' not in block:
            raise AssertionError(f"fuzzy entry in {PO.name}:\n{block}")
        parts = re.split(
            r"^(msgid|msgid_plural|msgstr(?:\[0\])?|msgstr\[\d+\]) ", block, flags=re.M
        )
        fields: dict[str, str] = {}
        for key, value in zip(parts[1::2], parts[2::2], strict=True):
            fields.setdefault(key.replace("[0]", ""), unquote(value.splitlines()))
        if fields.get("msgid"):
            entries[fields["msgid"]] = fields.get("msgstr", "")
    return entries


def test_every_message_of_the_german_catalogue_is_translated():
    entries = po_entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert not untranslated, f"untranslated in {PO}: {untranslated}"


def test_the_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    entries = po_entries(PO.read_text(encoding="utf-8"))
    stale = [
        msgid
        for msgid, msgstr in entries.items()
        if catalog.gettext(msgid) != msgstr and catalog.ngettext(msgid, msgid + "\x00", 1) != msgstr
    ]
    assert not stale, f"{MO.name} is older than {PO.name}; run compilemessages: {stale[:5]}"


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
    assert "Geplante Aufgaben" in page or "geplante Aufgaben" in page
