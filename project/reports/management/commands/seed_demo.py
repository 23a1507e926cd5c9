"""Create the demo users, reports, CRM, Todo and marketing data and their scheduled tasks (safe to run again)."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from project.crm import demo as crm_demo
from project.marketing import demo as marketing_demo
from project.reports import demo
from project.todo import demo as todo_demo

#: Seeding steps of the other demo modules: (label, module with USERS and seed()).
MODULE_DEMOS = (("CRM", crm_demo), ("Todo", todo_demo), ("Marketing", marketing_demo))


def demo_users() -> list:
    """The login specs of every demo module, in the order they are printed."""
    return [*demo.USERS, *(u for _label, module in MODULE_DEMOS for u in module.USERS)]


class Command(BaseCommand):
    help = (
        "Create demo users with roles, reports, CRM, Todo and marketing data and their scheduled tasks; "
        "print the logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--logins-only", action="store_true", help="Only print the demo logins; change nothing."
        )
        parser.add_argument(
            "--no-logins", action="store_true", help="Seed without printing the logins."
        )

    def handle(self, *args, **options):
        if not options["logins_only"]:
            self.seed()
        if not options["no_logins"]:
            self.print_logins()

    def print_logins(self) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING("Demo logins (all staff):"))
        users = demo_users()
        width = max(len(u.username) for u in users)
        for spec in users:
            self.stdout.write(
                f"  {spec.username:<{width}}  password: {spec.password:<6}  {spec.role}"
            )

    def seed(self) -> None:
        try:
            _users, reports, tasks = demo.seed()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        names = f" ({', '.join(t.name for t in tasks)})" if tasks else ""
        self.stdout.write(f"Reports: {len(reports)}; new scheduled tasks: {len(tasks)}{names}.")
        for label, module in MODULE_DEMOS:
            try:
                _users, tasks = module.seed()
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
            names = f" ({', '.join(t.name for t in tasks)})" if tasks else ""
            self.stdout.write(f"{label}: new scheduled tasks: {len(tasks)}{names}.")
