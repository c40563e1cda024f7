"""Signals the post-loan app sends to the apps above it (DESIGN.md section 8), always after commit.

Receivers connect in their AppConfig.ready and get ids, never model instances: they load what they need.
"""

from django.dispatch import Signal

# Sent after the disbursement is confirmed and the loan exists, with loan_id. followups plans its follow-ups.
loan_disbursed = Signal()

# Sent when the daily sweep marks a loan overdue (a new overdue episode), with loan_id and overdue_since (a date).
# followups schedules one overdue_call per episode.
loan_became_overdue = Signal()

# Sent when a new schedule version is in force (a restructuring approved, or a prepayment that lowered the installments
# or shortened the term), with loan_id and version.
# followups re-dates its pre_maturity follow-up.
loan_rescheduled = Signal()
