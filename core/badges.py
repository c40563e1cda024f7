"""A state as a Bootstrap badge, for the template tags of each app's badges (loan status, application status)."""

from django.utils.html import format_html
from django.utils.safestring import SafeString


def state_badge(status: str, label: str, *, shade: str, symbol: str = "", attribute: str = "status") -> SafeString:
    """The badge's text always says the state; the symbol (hidden from screen readers) and the shade keep it
    readable in grayscale. `data-status` (or `data-<attribute>`, a name from the code) is what tests and scripts
    look for."""
    if symbol:
        return format_html(
            f'<span class="badge {{}}" data-{attribute}="{{}}"><span aria-hidden="true">{{}}</span> {{}}</span>',
            shade,
            status,
            symbol,
            label,
        )
    return format_html(f'<span class="badge {{}}" data-{attribute}="{{}}">{{}}</span>', shade, status, label)
