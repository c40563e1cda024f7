"""Build a realistic loan book for load tests (issue 9): `manage.py generate_load --loans 100000 [--seed 42]`.

PostgreSQL only (the rows go in with COPY), on an empty book. Prints rows per table and rows per second.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from dashboard.loadgen import BookNotEmpty, NotPostgres, generate
from dashboard.loadgen.book import BATCH
from dashboard.loadgen.shape import PENALTY_HISTORY_DAYS


class Command(BaseCommand):
    help = "Generate a realistic loan book of N loans on an empty PostgreSQL database, with COPY."

    def add_arguments(self, parser):
        parser.add_argument("--loans", type=int, required=True, help="How many loans to disburse.")
        parser.add_argument("--seed", type=int, default=42, help="Random seed: the same seed gives the same book.")
        parser.add_argument("--batch", type=int, default=BATCH, help="Loans per COPY batch (and transaction).")
        parser.add_argument(
            "--jobs",
            type=int,
            default=None,
            help="Generating processes, each with its own branches (default: one per CPU, at most two).",
        )
        parser.add_argument(
            "--penalty-days",
            type=int,
            default=PENALTY_HISTORY_DAYS,
            help="Days of penalty accruals kept per overdue installment (its first days past due).",
        )

    def handle(self, *args, loans: int, seed: int, batch: int, jobs: int | None, penalty_days: int, **options):
        if loans < 1:
            raise CommandError("--loans must be at least 1.")
        if jobs is not None and jobs < 1:
            raise CommandError("--jobs must be at least 1.")
        started = time.perf_counter()

        def progress(done: int, rows: int, elapsed: float) -> None:
            self.stdout.write(f"  {done:>9,} loans  {rows:>12,} rows  {elapsed:7.1f} s  {rows / elapsed:>9,.0f} rows/s")

        try:
            report = generate(
                loans=loans, seed=seed, batch=batch, jobs=jobs, penalty_days=penalty_days, progress=progress
            )
        except (BookNotEmpty, NotPostgres) as error:
            raise CommandError(str(error)) from None
        self.stdout.write("")
        self.stdout.write(f"{'table':<34}{'rows':>13}{'COPY s':>9}{'COPY rows/s':>13}")
        for name, rows, seconds in sorted(report.tables, key=lambda item: -item[1]):
            if rows:
                rate = f"{rows / seconds:>13,.0f}" if seconds else f"{'—':>13}"
                self.stdout.write(f"{name:<34}{rows:>13,}{seconds:>9.1f}{rate}")
        copy_rate = report.total_rows / report.copy_seconds if report.copy_seconds else 0
        self.stdout.write(f"{'total':<34}{report.total_rows:>13,}{report.copy_seconds:>9.1f}{copy_rate:>13,.0f}")
        self.stdout.write("")
        lines = [
            f"{report.loans:,} loans (seed {report.seed}): {report.total_rows:,} rows in {report.load_seconds:.1f} s, "
            f"{report.rows_per_second:,.0f} rows/s overall",
            f"{report.jobs} generating process(es); {report.batches} COPY batches, each loaded in the background "
            "while the next was built",
        ]
        if report.index_seconds:
            lines.append(f"indexes built after the load: {report.index_seconds:.1f} s (included)")
        if report.references_checked_after:
            lines.append(f"foreign keys checked after the load: {report.reference_seconds:.1f} s (included)")
        lines += [
            f"VACUUM (ANALYZE) of the tables: {report.maintenance_seconds:.1f} s (not included)",
            f"generating processes: {report.cpu_seconds:.1f} s of CPU "
            f"({report.total_rows / report.cpu_seconds if report.cpu_seconds else 0:,.0f} rows per CPU second), "
            f"peak memory {report.peak_memory_mb:,.0f} MB",
            f"{report.created_branches} branches and {report.created_users} staff created",
        ]
        for line in lines:
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.1f} s."))
