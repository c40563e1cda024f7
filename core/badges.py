"""A state as a Bootstrap badge, for the template tags of each app's badges (loan status, application status)."""

from django.utils.html import format_html
from django.utils.safestring import SafeString


def state_badge(status: str, label: str, *, shade: str, symbol: str = "") -> SafeString:
    """The badge's text always says the state; the symbol (hidden from screen readers) and the shade keep it
    readable in grayscale. `data-status` is what tests and scripts look for."""
    if symbol:
        return format_html(
            '<span class="badge {}" data-status="{}"><span aria-hidden="true">{}</span> {}</span>',
            shade,
            status,
            symbol,
            label,
        )
    return format_html('<span class="badge {}" data-status="{}">{}</span>', shade, status, label)
