"""The generation run: each branch's five years of business, window by window (30 days each, oldest first), then its
pipeline today, the branches shared out among worker processes.

A branch's book depends only on the seed and the branch: it has its own random stream, and its borrowers' identity
and mobile numbers, document numbers and references come from its own counters interleaved with the other branches'
(the n-th of branch p of D is number n·D + p). So the same seed gives the same book whether one process generates it
or two, and two processes share no state but the database: ids are handed out in strides (process p of P uses
first + p, first + p + P, …). Within a branch, each window disburses its share of the branch's loans (the book grows:
the newest window three times the oldest) and closes the applications that never became loans (rejected, withdrawn,
expired). Rows go to the database by COPY every `batch` loans, one transaction per batch, from a background thread,
so memory stays flat whatever the size of the book.
"""

import math
import multiprocessing
import os
import queue
import random
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, connections, transaction
from django.utils import timezone

from applications.models import Application, ApplicationStatus, ApplicationStatusCount, Borrower
from core.dates import local_today
from core.models import DocumentSequence
from core.money import round_rate
from core.schedules import ScheduleMethod
from core.status_counts import rebuild
from postloan.models import Loan, LoanStatusCount

from . import shape
from .applications import Applications, Terms
from .borrowers import Borrowers
from .copy import (
    CopyWriter,
    Days,
    DeferredIndexes,
    at,
    day_of,
    is_superuser,
    references_check,
    run_in_parallel,
    to_date,
)
from .followups import FollowUps
from .inquiries import Inquiries
from .ledger import Simulation
from .loans import Loans, Timeline, first_due_for
from .outbox import Outbox
from .snapshots import MonthEnds
from .staff import Desk, Lender, lender_setup

S = ApplicationStatus
HOUR = 3600
DAY = 86400
# Loans per COPY batch: about 400,000 rows, 150 MB of text; one batch is loaded while the next is built.
BATCH = 5_000


class BookNotEmpty(Exception):
    """The database already holds borrowers, applications or loans."""


class NotPostgres(Exception):
    """COPY needs PostgreSQL."""


class Numbers:
    """Document numbers (LA2026000001) per prefix and year, continuing core.DocumentSequence: the n-th number of
    branch p of D is the n·D + p + 1-th after the sequence's last value; the largest are saved back to it."""

    def __init__(self):
        self.base = {(row.prefix, row.year): row.last_value for row in DocumentSequence.objects.all()}
        self.stride = 1
        self.counts: dict[tuple[str, int, int], int] = {}
        self.last: dict[tuple[str, int], int] = {}

    def next(self, prefix: str, year: int, desk: Desk) -> str:
        count = self.counts.get((prefix, year, desk.position), 0)
        self.counts[(prefix, year, desk.position)] = count + 1
        value = self.base.get((prefix, year), 0) + count * self.stride + desk.position + 1
        if value > self.last.get((prefix, year), 0):
            self.last[(prefix, year)] = value
        return f"{prefix}{year}{value:06d}"


def save_numbers(last: dict[tuple[str, int], int]) -> None:
    with transaction.atomic():
        for (prefix, year), value in sorted(last.items()):
            row, _created = DocumentSequence.objects.get_or_create(prefix=prefix, year=year)
            if row.last_value < value:
                row.last_value = value
                row.save(update_fields=["last_value"])


@dataclass
class Report:
    """What a run wrote and how long each part took (seconds of wall time unless said otherwise)."""

    loans: int
    seed: int
    jobs: int = 1
    seconds: float = 0.0  # the whole run
    load_seconds: float = 0.0  # until the book is complete: generated, copied, indexed and its keys checked
    copy_seconds: float = 0.0  # COPY and commit, in background threads (overlapping the generation), summed
    index_seconds: float = 0.0  # building the deferred indexes after the load
    reference_seconds: float = 0.0  # checking the foreign keys after the load
    references_checked_after: bool = False  # foreign-key triggers were off during COPY, the keys checked after
    maintenance_seconds: float = 0.0  # VACUUM (ANALYZE)
    cpu_seconds: float = 0.0  # CPU time of the generating processes (user + system, all threads)
    batches: int = 0
    peak_memory_mb: float = 0.0
    tables: list[tuple[str, int, float]] = field(default_factory=list)  # (table, rows, COPY seconds)
    created_users: int = 0
    created_branches: int = 0

    @property
    def total_rows(self) -> int:
        return sum(rows for _name, rows, _seconds in self.tables)

    @property
    def rows_per_second(self) -> float:
        """Rows per second of wall time until the book is complete (VACUUM not counted)."""
        return self.total_rows / self.load_seconds if self.load_seconds else 0.0


def _cpu_seconds() -> float:
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def _peak_memory_mb() -> float:
    mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(mine, children) / 1024


def check_database() -> None:
    """Refuse anything but an empty book on PostgreSQL."""
    if connection.vendor != "postgresql":
        raise NotPostgres(
            f"The load generator writes with PostgreSQL's COPY; this database is {connection.vendor}. "
            "Set DATABASE_URL to a PostgreSQL database."
        )
    for model in (Loan, Application, Borrower):
        if model.objects.exists():
            raise BookNotEmpty(
                "The database already holds borrowers, applications or loans. The generator builds a whole book "
                "and needs an empty one: use a fresh database (migrate it first)."
            )


def apportion(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights`, in whole numbers adding up to it (largest remainders)."""
    exact = [total * weight / sum(weights) for weight in weights]
    counts = [math.floor(value) for value in exact]
    for index in sorted(range(len(weights)), key=lambda i: counts[i] - exact[i])[: total - sum(counts)]:
        counts[index] += 1
    return counts


class Modules:
    """The writers of one generating process, over one CopyWriter."""

    def __init__(self, *, lender: Lender, today: int, now: int, background: bool, skip_checks: bool):
        self.products = lender.products
        self.days = days = Days()
        self.numbers = Numbers()
        self.writer = writer = CopyWriter(background=background, skip_reference_checks=skip_checks)
        self.borrowers = Borrowers(writer, days, password=lender.password)
        self.applications = Applications(writer, days, self.numbers)
        self.loans = Loans(writer, days, self.numbers, today=today, now=now)
        self.followups = FollowUps(
            writer, days, today=today, now=now, product_ids=[p.pk for p in lender.products.values()]
        )
        self.inquiries = Inquiries(writer, days, self.numbers, now=now, surveys=self.followups.surveys)
        self.outbox = Outbox(writer, days, today=today, now=now)
        self.month_ends = MonthEnds(writer, days, today=today)

    def stride(self, *, process: int, processes: int, desks: int) -> None:
        """Ids in strides of `processes`; branch-interleaved numbers in strides of the number of branches."""
        for table in self.writer.tables:
            table.next_id += process
            table.reserved_to = table.next_id
            table.step = processes
        self.borrowers.stride = self.numbers.stride = desks


class Book:
    def __init__(
        self,
        *,
        loans: int,
        seed: int,
        batch: int,
        penalty_days: int,
        jobs: int = 1,
        progress: Callable | None = None,
    ):
        self.count = loans
        self.seed = seed
        self.batch = max(1, batch)
        self.penalty_days = penalty_days
        self.jobs = max(1, jobs)
        self.progress = progress
        self.now = int(timezone.now().timestamp())
        self.today = local_today().toordinal()

    # --- the run --------------------------------------------------------------------------------------------------
    def generate(self) -> Report:
        check_database()
        started = time.perf_counter()
        cpu_before = _cpu_seconds()
        lender = lender_setup(self.seed)
        report = Report(
            loans=self.count,
            seed=self.seed,
            created_users=lender.created_users,
            created_branches=lender.created_branches,
        )
        # Load in background threads and processes, except inside a transaction (tests), where another connection
        # sees nothing; there, too, every reference is checked row by row as it goes in.
        background = not connection.in_atomic_block
        jobs = self.jobs if background else 1
        report.jobs = jobs
        modules = Modules(
            lender=lender,
            today=self.today,
            now=self.now,
            background=background,
            skip_checks=background and is_superuser(),
        )
        tables = modules.writer.tables
        counts = apportion(self.count, [desk.share for desk in lender.desks])
        biggest = max(range(len(lender.desks)), key=lambda index: counts[index])
        lender.desks[biggest].biggest = True
        plans = [DeskPlan(desk=desk, loans=loans) for desk, loans in zip(lender.desks, counts, strict=True)]

        indexes = None
        if background:
            # Only the tables the book fills; accounts' tables stay as they are for whoever signs in meanwhile.
            indexes = DeferredIndexes([t for t in tables if not t.name.startswith("accounts_")])
            indexes.drop()
        try:
            results = self._run(plans, modules, lender, jobs)
        finally:
            if indexes is not None:
                restoring = time.perf_counter()
                indexes.restore()
                report.index_seconds = time.perf_counter() - restoring
        if not background:
            with connection.cursor() as cursor:
                # Inside the caller's transaction the deferred foreign keys would wait for its commit: check now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        last_numbers: dict[tuple[str, int], int] = {}
        for result in results:
            for key, value in result["numbers"].items():
                last_numbers[key] = max(value, last_numbers.get(key, 0))
            report.batches += result["batches"]
            report.copy_seconds += result["copy_seconds"]
        save_numbers(last_numbers)
        rows = {table.name: [0, 0.0] for table in tables}
        for result in results:
            for name, (count, seconds) in result["tables"].items():
                rows[name][0] += count
                rows[name][1] += seconds
        report.tables = [(name, count, seconds) for name, (count, seconds) in rows.items()]
        self._sequences(tables, results)

        checking = time.perf_counter()
        if modules.writer.skip_reference_checks:
            for table in tables:
                table.rows = rows[table.name][0]
            broken = references_check(tables)
            if broken:
                raise RuntimeError("The generated rows break references: " + "; ".join(broken))
            report.references_checked_after = True
        # The counts per status the lists read (core.status_counts): their triggers were off during COPY as superuser.
        for source, counts in ((Loan, LoanStatusCount), (Application, ApplicationStatusCount)):
            rebuild(source._meta.db_table, counts._meta.db_table)
        report.reference_seconds = time.perf_counter() - checking
        report.load_seconds = time.perf_counter() - started
        self._maintain(report)
        report.seconds = time.perf_counter() - started
        report.maintenance_seconds = report.seconds - report.load_seconds
        report.cpu_seconds = _cpu_seconds() - cpu_before
        report.peak_memory_mb = _peak_memory_mb()
        return report

    def _run(self, plans: list["DeskPlan"], modules: Modules, lender: Lender, jobs: int) -> list[dict]:
        """Generate every branch's book: in this process, or shared out among `jobs` forked processes."""
        if jobs == 1:
            return [self._work(0, 1, plans, modules, lender, None)]
        # Share the branches out, the biggest first to the least loaded process.
        shares: list[list[DeskPlan]] = [[] for _ in range(jobs)]
        for plan in sorted(plans, key=lambda plan: -plan.loans):
            min(shares, key=lambda share: sum(p.loans for p in share)).append(plan)
        context = multiprocessing.get_context("fork")
        messages = context.Queue()
        # The children open connections of their own: they must not share this one's socket.
        connections.close_all()
        children = [
            context.Process(target=self._child, args=(number, jobs, share, modules, lender, messages), daemon=True)
            for number, share in enumerate(shares)
        ]
        for child in children:
            child.start()
        results, done, loans, rows = [], 0, [0] * jobs, [0] * jobs
        started = time.perf_counter()
        while done < len(children):
            try:
                kind, number, payload = messages.get(timeout=1)
            except queue.Empty:
                # A child that died without a word (killed, out of memory) would otherwise be waited for forever.
                dead = [child for child in children if child.exitcode not in (None, 0)]
                if dead:
                    for child in children:
                        child.kill()
                    raise RuntimeError(f"A generating process died (exit code {dead[0].exitcode}).") from None
                continue
            if kind == "progress":
                loans[number], rows[number] = payload
                if self.progress:
                    self.progress(sum(loans), sum(rows), time.perf_counter() - started)
            elif kind == "error":
                for child in children:
                    child.kill()
                raise RuntimeError(f"A generating process failed:\n{payload}")
            else:
                results.append(payload)
                done += 1
        for child in children:
            child.join()
        return results

    def _child(self, number, jobs, share, modules, lender, messages) -> None:
        """A forked process's life: its branches, then its result (or its error) to the parent."""
        try:
            result = self._work(number, jobs, share, modules, lender, messages)
            messages.put(("done", number, result))
        except BaseException:
            messages.put(("error", number, traceback.format_exc()))
        finally:
            connections.close_all()
            # Hand the last message over before leaving without the parent's exit handlers (pytest's, Django's).
            messages.close()
            messages.join_thread()
            os._exit(0)

    def _work(self, number, jobs, plans, modules: Modules, lender: Lender, messages) -> dict:
        modules.stride(process=number, processes=jobs, desks=len(lender.desks))
        writer = modules.writer
        state = {"pending": 0, "loans": 0, "batches": 0}
        started = time.perf_counter()

        def loaned() -> None:
            state["pending"] += 1
            state["loans"] += 1
            if state["pending"] >= self.batch:
                flush()

        def flush() -> None:
            writer.flush()
            state["pending"] = 0
            state["batches"] += 1
            if messages is not None:
                messages.put(("progress", number, (state["loans"], writer.generated)))
            elif self.progress:
                self.progress(state["loans"], writer.generated, time.perf_counter() - started)

        try:
            for plan in plans:
                BranchBook(self, plan, modules, loaned).generate()
            flush()
        finally:
            writer.finish()
        return {
            "numbers": modules.numbers.last,
            "batches": state["batches"],
            "copy_seconds": writer.flush_seconds,
            "tables": {table.name: (table.rows, table.seconds) for table in writer.tables},
            "last_ids": {table.name: table.next_id - table.step for table in writer.tables if table.rows},
        }

    def _sequences(self, tables, results: list[dict]) -> None:
        """Each table's sequence after the largest id any process used."""
        with connection.cursor() as cursor:
            for table in tables:
                used = [result["last_ids"][table.name] for result in results if table.name in result["last_ids"]]
                if table.sequence and used:
                    cursor.execute(
                        "SELECT setval(%s, GREATEST(%s, (SELECT last_value FROM " + table.sequence + ")))",
                        [table.sequence, max(used)],
                    )

    def _maintain(self, report: Report) -> None:
        """Fresh planner statistics (and, outside a transaction, the visibility map) for the tables just loaded:
        autovacuum may be off, or late, and the bench measures the book as a DBA would leave it."""
        names = [name for name, rows, _seconds in sorted(report.tables, key=lambda item: -item[1]) if rows]
        if connection.in_atomic_block:
            with connection.cursor() as cursor:
                for name in names:
                    cursor.execute(f"ANALYZE {name}")
        else:
            run_in_parallel([f"VACUUM (ANALYZE) {name}" for name in names])


@dataclass
class DeskPlan:
    """A branch and how many loans its book has."""

    desk: Desk
    loans: int


class BranchBook:
    """One branch's five years and its pipeline, from its own random stream."""

    def __init__(self, book: Book, plan: DeskPlan, modules: Modules, loaned: Callable):
        self.book = book
        self.plan = plan
        self.desk = plan.desk
        self.m = modules
        self.loaned = loaned
        self.today, self.now = book.today, book.now
        self.rng = random.Random(f"{book.seed}:{plan.desk.code}")
        self.products = modules.products
        self.mix = [(mix, mix.share) for mix in shape.PRODUCT_MIX]
        self.simulation = Simulation(self.rng, today=self.today, rate_units=0, history_days=book.penalty_days)
        self.loan_index = 0
        self.serial = 0
        self.assigned = [0] * len(shape.OVERDUE_RANGES)
        self.waiting = {S.APPROVED: 0, S.CONTRACTED: 0}  # contracts, disbursements waiting for confirmation

    def generate(self) -> None:
        rng = self.rng
        counts = shape.window_counts(self.plan.loans)
        for window, loans in enumerate(counts):
            first = self.today - shape.WINDOW_DAYS * (shape.WINDOWS - window)
            last = min(first + shape.WINDOW_DAYS - 1, self.today - 1)
            items = [(rng.randint(first, last), 0, S.DISBURSED) for _ in range(loans)]
            for status, rate in shape.CLOSED_OUTCOMES:
                extra = math.floor(loans * rate + rng.random())
                items += [(rng.randint(first, last), 1, status) for _ in range(extra)]
            items.sort(key=lambda item: (item[0], item[1]))
            for day, _order, status in items:
                if status == S.DISBURSED:
                    self._loan(day)
                    self.loaned()
                else:
                    self._closed(day, status)
        last_window = counts[-1] if counts else 0
        for status, share in shape.PIPELINE:
            count = round(last_window * share)
            for _ in range(max(count, 1) if self.desk.biggest else count):
                self._pipeline(status)

    def _next_serial(self) -> str:
        """A reference part unique in the whole book: the branch's position and its own counter."""
        self.serial += 1
        return f"{self.desk.position:02d}{self.serial:08d}"

    # --- one loan -------------------------------------------------------------------------------------------------
    def _draw_terms(self, *, for_loan: bool):
        rng = self.rng
        mix = shape.pick(rng, self.mix)
        product = self.products[mix.code]
        kind = shape.pick(rng, mix.kinds)
        method = shape.pick(rng, mix.methods)
        term = shape.pick(rng, mix.terms)
        principal = shape.amount_fen(rng, mix)
        rate = shape.annual_rate(rng, mix)
        requested = principal
        if for_loan and rng.random() < 0.15:
            # The approver granted less than was asked for.
            requested = round(principal * rng.uniform(1.1, 1.3) / 100_000) * 100_000
            requested = max(requested, principal)
        terms = Terms(
            product_id=product.pk,
            amount=requested,
            term_months=term,
            method=method,
            rate=str(rate),
            purpose=rng.choice(shape.PURPOSES[mix.code]),
            channel=shape.pick(rng, shape.CHANNELS),
            approved_amount=principal,
            sla_initial_hours=product.sla_initial_review_hours,
            sla_secondary_hours=product.sla_secondary_review_hours,
        )
        return product, kind, terms, rate

    def _borrower(self, officer, kind: str, before: int, *, with_loan: bool):
        rng = self.rng
        if rng.random() < shape.REPEAT_BORROWER_SHARE:
            found = self.m.borrowers.repeat(rng, self.desk, kind)
            if found is not None and found.created_at < before:
                return found
        created_at = before - rng.randrange(60, 2 * HOUR)
        return self.m.borrowers.new(
            rng, desk=self.desk, officer=officer, kind=kind, created_at=created_at, with_loan=with_loan
        )

    def _overdue_target(self, insts) -> int | None:
        """The first installment never paid, when this loan is to be overdue today: a range of days past due that is
        behind its share of the branch's loans so far takes the loan, if one of its installments fell due that many
        days ago. The biggest branch has at least one loan in each range."""
        rng = self.rng
        order = list(range(len(shape.OVERDUE_RANGES)))
        rng.shuffle(order)
        for position in order:
            _bucket, share, low, high = shape.OVERDUE_RANGES[position]
            wanted = share * (self.loan_index + 1)
            quota = max(math.ceil(wanted), 1) if self.desk.biggest else math.floor(wanted)
            if self.assigned[position] >= quota:
                continue
            candidates = [inst.index for inst in insts if low <= self.today - inst.due <= high]
            if candidates:
                self.assigned[position] += 1
                return rng.choice(candidates)
        return None

    def _loan(self, day: int) -> None:
        rng, desk, m = self.rng, self.desk, self.m
        officer = desk.officer(rng)
        product, kind, terms, rate = self._draw_terms(for_loan=True)
        penalty_rate = round_rate(product.effective_penalty_rate(rate))
        principal = terms.approved_amount
        first_due = first_due_for(to_date(day))
        insts = Loans.schedule(
            principal=principal, rate=rate, term=terms.term_months, method=terms.method, first_due=first_due
        )
        stop_at = self._overdue_target(insts)
        prepay_at = None
        if (
            stop_at is None
            and terms.method in (ScheduleMethod.EQUAL_INSTALLMENT, ScheduleMethod.EQUAL_PRINCIPAL)
            and len(insts) >= 6
            and rng.random() < shape.PREPAY_SHARE
        ):
            prepay_at = rng.randint(1, len(insts) - 4)
        self.loan_index += 1
        self.simulation.rate_units = int(penalty_rate * 10_000)
        outcome = self.simulation.run(
            insts, disbursed_on=day, stop_at=stop_at, prepay_at=prepay_at, method=terms.method, annual_rate=rate
        )

        disbursed_at = at(day, rng.randrange(10 * HOUR, 17 * HOUR))
        path = m.applications.plan(rng, status=S.DISBURSED, end=disbursed_at, desk=desk, officer=officer, terms=terms)
        borrower = self._borrower(officer, kind, path.steps[0][0], with_loan=True)
        application_id, _number = m.applications.write(
            path=path, borrower_id=borrower.id, desk=desk, officer=officer, terms=terms
        )
        contracted = next(step for step in path.steps if step[2] == S.CONTRACTED)
        checker = next(person for person in desk.approvers + desk.managers if person.id == contracted[3])
        contract_prepared = path.approved_at + int((contracted[0] - path.approved_at) * rng.uniform(0.3, 0.9))
        contract_id, number = m.loans.contract(
            application_id=application_id,
            borrower_id=borrower.id,
            desk=desk,
            officer=officer,
            principal=principal,
            rate=rate,
            penalty_rate=penalty_rate,
            term=terms.term_months,
            method=terms.method,
            first_due=first_due,
            maturity=to_date(insts[-1].due),
            prepared_at=contract_prepared,
            confirmed_by=checker,
            confirmed_at=contracted[0],
        )
        serial = self._next_serial()
        disbursement_prepared = contracted[0] + int((disbursed_at - contracted[0]) * rng.uniform(0.3, 0.9))
        bank, masked, reference = m.loans.disbursement(
            rng,
            contract_id=contract_id,
            serial=serial,
            principal=principal,
            disbursed_on=day,
            officer=officer,
            prepared_at=disbursement_prepared,
            confirmed_by=checker,
            confirmed_at=disbursed_at,
        )
        timeline = Timeline()
        facts = m.loans.loan(
            rng,
            number=number,
            serial=serial,
            contract_id=contract_id,
            application_id=application_id,
            borrower=borrower,
            desk=desk,
            officer=officer,
            checker=checker,
            product_id=product.pk,
            principal=principal,
            rate=rate,
            penalty_rate=penalty_rate,
            term=terms.term_months,
            method=terms.method,
            disbursed_on=day,
            disbursed_at=disbursed_at,
            bank=bank,
            masked=masked,
            bank_reference=reference,
            outcome=outcome,
            timeline=timeline,
        )
        m.followups.write(rng, facts, timeline)
        m.loans.write_timeline(facts.id, timeline)
        m.inquiries.for_loan(rng, facts)
        m.outbox.reminders(rng, facts)
        m.month_ends.write(facts)

    # --- applications that are not loans ----------------------------------------------------------------------------
    def _closed(self, day: int, status: str) -> None:
        """A rejected, withdrawn or expired application, its last step on `day`."""
        rng = self.rng
        officer = self.desk.officer(rng)
        _product, kind, terms, _rate = self._draw_terms(for_loan=False)
        if status == S.EXPIRED:
            end = at(day, 20 * 60 + rng.randrange(0, 300))  # the 00:20 expiry sweep
        else:
            end = at(day, rng.randrange(9 * HOUR, 18 * HOUR))
        self._application(status, end, officer, kind, terms)

    def _application(self, status, end, officer, kind, terms):
        path = self.m.applications.plan(self.rng, status=status, end=end, desk=self.desk, officer=officer, terms=terms)
        borrower = self._borrower(officer, kind, path.steps[0][0], with_loan=False)
        application_id, _number = self.m.applications.write(
            path=path, borrower_id=borrower.id, desk=self.desk, officer=officer, terms=terms
        )
        return path, borrower, application_id

    def _pipeline(self, status: str) -> None:
        """An application in progress today; approved ones may have a contract waiting for confirmation, contracted
        ones a disbursement waiting for confirmation."""
        rng, now, desk, m = self.rng, self.now, self.desk, self.m
        officer = desk.officer(rng)
        product, kind, terms, rate = self._draw_terms(for_loan=True)
        age_hours = {
            S.DRAFT: (1, 240),
            S.SUBMITTED: (0.5, 40),
            S.INITIAL_REVIEW: (0.5, 30),
            S.SECONDARY_REVIEW: (1, 60),
            S.RETURNED: (1, 168),
            S.APPROVED: (1, 24 * 27),
            S.CONTRACTED: (1, 24 * 10),
        }[status]
        end = now - int(rng.uniform(*age_hours) * HOUR)
        path, borrower, application_id = self._application(status, end, officer, kind, terms)
        if borrower.user_id is not None and rng.random() < 0.2:
            m.inquiries.write(
                rng,
                borrower_id=borrower.id,
                desk=desk,
                officer=officer,
                category="progress",
                asked=rng.randrange(path.steps[0][0], now - 60),
                application_id=application_id,
                loan_id=None,
            )
        # Some approvals have their contract prepared, some signed contracts their disbursement recorded, both
        # waiting for a colleague's confirmation; the biggest branch always has one of each.
        if status not in (S.APPROVED, S.CONTRACTED):
            return
        first = self.desk.biggest and not self.waiting[status]
        if status == S.APPROVED and not first and rng.random() >= 0.4:
            return
        penalty_rate = round_rate(product.effective_penalty_rate(rate))
        if status == S.APPROVED:
            self.waiting[status] += 1
            prepared = rng.randrange(end + 60, max(end + 120, now - 60))
            confirmed_by = confirmed_at = None
        else:
            prepared = path.approved_at + int((end - path.approved_at) * rng.uniform(0.3, 0.9))
            confirmed_at = end
            confirmed_by = next(person for person in desk.approvers + desk.managers if person.id == path.steps[-1][3])
        first_due = first_due_for(to_date(day_of(prepared)))
        insts = Loans.schedule(
            principal=terms.approved_amount,
            rate=rate,
            term=terms.term_months,
            method=terms.method,
            first_due=first_due,
        )
        contract_id, _number = m.loans.contract(
            application_id=application_id,
            borrower_id=borrower.id,
            desk=desk,
            officer=officer,
            principal=terms.approved_amount,
            rate=rate,
            penalty_rate=penalty_rate,
            term=terms.term_months,
            method=terms.method,
            first_due=first_due,
            maturity=to_date(insts[-1].due),
            prepared_at=prepared,
            confirmed_by=confirmed_by,
            confirmed_at=confirmed_at,
        )
        if status == S.CONTRACTED and (first or rng.random() < 0.5):
            self.waiting[status] += 1
            prepared_at = rng.randrange(end + 60, max(end + 120, now - 60))
            m.loans.disbursement(
                rng,
                contract_id=contract_id,
                serial=self._next_serial(),
                principal=terms.approved_amount,
                disbursed_on=day_of(prepared_at),
                officer=officer,
                prepared_at=prepared_at,
                confirmed_by=None,
                confirmed_at=None,
            )


def generate(
    *,
    loans: int,
    seed: int = 42,
    batch: int = BATCH,
    penalty_days: int = shape.PENALTY_HISTORY_DAYS,
    jobs: int | None = None,
    progress=None,
) -> Report:
    """Build a book of `loans` loans on an empty PostgreSQL database; see dashboard.loadgen. `jobs` generating
    processes (default: one per CPU, at most two; one inside a transaction)."""
    if loans < 1:
        raise ValueError("Generate at least one loan.")
    if jobs is None:
        jobs = min(2, os.cpu_count() or 1)
    return Book(loans=loans, seed=seed, batch=batch, penalty_days=penalty_days, jobs=jobs, progress=progress).generate()
