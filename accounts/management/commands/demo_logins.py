"""Print where LoanTrack runs and the demo sign-ins, for `make run`."""

from django.core.management.base import BaseCommand

from accounts.demo import BRANCHES, DEMO_PASSWORD, demo_username
from accounts.models import User
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
        self.stdout.write("(HQ = head office: sees every branch)")
        # Portal borrowers sign in by mobile number (portal.demo makes them); the reverse relation needs no import.
        borrowers = User.objects.filter(borrower_profile__isnull=False).values_list(
            "borrower_profile__mobile", "borrower_profile__name"
        )
        if borrowers:
            self.stdout.write(f"Borrower portal, http://127.0.0.1:{port}/portal/sign-in/ (mobile number + password):")
            for mobile, name in borrowers.order_by("borrower_profile__mobile"):
                self.stdout.write(f"  {mobile}  {name}")
        self.stdout.write("")
