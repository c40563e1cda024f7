"""The post-loan pages: loans.py (lists, the loan's page, schedules), contracts.py (contract, disbursement and the
confirmation list), repayments.py (posting, preview, reversal, payoff); common.py holds the access checks."""
