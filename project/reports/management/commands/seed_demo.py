"""Create the demo users, reports and scheduled report tasks (safe to run again)."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from project.reports import demo


class Command(BaseCommand):
    help = "Create demo users with roles, reports and scheduled report tasks; print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--logins-only", action="store_true",
                            help="Only print the demo logins; change nothing.")

    def handle(self, *args, **options):
        if not options["logins_only"]:
            self.seed()
        self.stdout.write(self.style.MIGRATE_HEADING("Demo logins (all staff):"))
        width = max(len(u.username) for u in demo.USERS)
        for spec in demo.USERS:
            self.stdout.write(f"  {spec.username:<{width}}  password: {spec.password:<6}  {spec.role}")

    def seed(self) -> None:
        try:
            _users, reports, tasks = demo.seed()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        names = f" ({', '.join(t.name for t in tasks)})" if tasks else ""
        self.stdout.write(f"Reports: {len(reports)}; new scheduled tasks: {len(tasks)}{names}.")
