"""The load generator of issue 9: a realistic loan book of any size, written with PostgreSQL's COPY.

`generate(loans=N, seed=42)` (or `manage.py generate_load --loans N`) builds, on an empty PostgreSQL database:
branches and staff (reused when they exist), borrowers (some with portal accounts), applications in every status with
their timelines and review decisions, contracts and disbursements (prepared by one person, confirmed by another),
loans with schedules from core.schedules, repayments (some late, some partial, a few prepaying principal, which puts
schedule version 2 in force) with their allocations, penalty accruals, overdue loans in every aging bucket with their
classification history, follow-ups in every state, risk warnings, inquiries with replies and ratings, the outbox's
recent repayment reminders and the last twelve month-end snapshots. Every row agrees with what the services and the
daily sweeps would have written: on the day of generation the sweeps find nothing to do.

Modules: copy (COPY buffers, ids, value formats, indexes deferred, keys checked), shape (the book's proportions),
staff, borrowers, applications, ledger (how each loan was repaid, in memory), loans, followups, inquiries, outbox,
snapshots, book (the run: branches shared out among processes).

Not generated: django-simple-history rows (the audit trail of five years of postings would multiply the largest
tables, one history row per installment change; no page reads it, and the book's own timelines carry the story);
application materials, parties, collateral and credit assessments; restructurings, payoffs and reversals; contact
attempts and questionnaires.
"""

from .book import BookNotEmpty, NotPostgres, Report, generate

__all__ = ["BookNotEmpty", "NotPostgres", "Report", "generate"]
