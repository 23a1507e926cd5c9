"""The README says what the code does: every setting with its default, the crontab line."""

from __future__ import annotations

import ast
import io
import re
import sys
from pathlib import Path

from django.core.management import call_command

from scheduler_app import conf

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_the_settings_block_lists_every_key_with_its_default():
    block = re.search(
        r"<!-- settings: defaults -->\n```python\nSCHEDULER = (\{.*?\n\})", README, re.S
    )
    assert block, "README.md has no settings block marked 'settings: defaults'"
    assert ast.literal_eval(block[1]) == conf.DEFAULTS


def test_the_crontab_line_is_what_scheduler_crontab_prints(monkeypatch, settings):
    line = re.search(r"^    (\* \* \* \* \* cd /srv/myproject .*)$", README, re.M)
    assert line, "README.md shows no crontab line for /srv/myproject"
    monkeypatch.setattr(sys, "argv", ["/srv/myproject/manage.py", "scheduler_crontab"])
    monkeypatch.setattr(sys, "executable", "/srv/myproject/.venv/bin/python")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "myproject.settings")
    out = io.StringIO()
    call_command("scheduler_crontab", stdout=out)
    assert out.getvalue().strip() == line[1]
