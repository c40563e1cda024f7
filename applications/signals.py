"""Signals the applications app sends to the apps above it (DESIGN.md section 8)."""

from django.dispatch import Signal

# Sent after commit of every status change, with application_id, from_status and to_status.
application_status_changed = Signal()
