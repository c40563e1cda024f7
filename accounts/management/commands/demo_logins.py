"""Print where LoanTrack runs and the demo sign-ins, for `make run`."""

from django.core.management.base import BaseCommand

from accounts.demo import BRANCHES, DEMO_PASSWORD, demo_username
from accounts.roles import Role


class Command(BaseCommand):
    help = "Print the local URL and the demo logins for every role."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, port: int, **options):
        self.stdout.write(self.style.SUCCESS(f"\nLoanTrack: http://127.0.0.1:{port}/"))
        self.stdout.write(f"Demo password for every account: {DEMO_PASSWORD}")
        codes = [code for code, *_ in BRANCHES]
        self.stdout.write(f"{'role':<14}" + "".join(f"{code:<18}" for code in codes))
        for role in Role:
            self.stdout.write(f"{role.value:<14}" + "".join(f"{demo_username(role, c):<18}" for c in codes))
        self.stdout.write("(HQ = head office: sees every branch)\n")
