"""Write scheduled tasks (and the blackout calendars they use) as JSON; secrets masked."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from scheduler_app.management.acting import acting_user, add_as_user_argument, object_id
from scheduler_app.services import transfer


class Command(BaseCommand):
    help = (
        "Export scheduled tasks as JSON for scheduler_import in another environment. "
        "Secret config fields are masked."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--module", help="Only tasks of this module.")
        parser.add_argument("--tag", action="append", default=[], help="Only tasks with this tag.")
        parser.add_argument(
            "--id",
            dest="ids",
            type=object_id,
            action="append",
            default=[],
            help="Only this task (repeatable).",
        )
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")
        add_as_user_argument(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        user = acting_user(options["as_user"])
        data = transfer.export_schedules(
            user=user,
            module=options["module"],
            tags=tuple(options["tag"]),
            task_ids=tuple(options["ids"]),
        )
        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(
                f"Exported {len(data['tasks'])} task(s) and {len(data['calendars'])} "
                f"calendar(s) to {options['output']}."
            )
        else:
            self.stdout.write(text, ending="")
