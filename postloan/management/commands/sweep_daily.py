"""Run the daily overdue and classification sweep by hand: a catch-up for a missed day, or an operator's rerun.

python manage.py sweep_daily                     # today in Asia/Shanghai
python manage.py sweep_daily --date 2026-06-01   # a given business date
"""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from postloan.services.sweep import SWEEP_CHUNK_SIZE, sweep_daily


def _business_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be a date like 2026-06-01, not {value!r}.") from None


class Command(BaseCommand):
    help = "Accrue penalty interest, age and classify every open loan for a business date (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=_business_date, default=None, help="business date, YYYY-MM-DD")
        parser.add_argument(
            "--chunk-size", type=int, default=SWEEP_CHUNK_SIZE, help="loans per transaction (default %(default)s)"
        )

    def handle(self, *args, **options):
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        result = sweep_daily(business_date=options["date"], chunk_size=options["chunk_size"])
        self.stdout.write(json.dumps(result.as_dict()))
