"""Links to the rows of a list, reversed once per page.

`reverse()` costs about 30 µs: a list of 25 rows that links each row paid it 25 times, the officer's "today" page
(up to 100 rows, two links each) 200 times, about 6 ms of a 26 ms page (docs/performance.md). A row link differs
from its neighbours only in the primary key, so the URL is reversed once with a stand-in key and each row's key is
put in its place."""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.template import Context
from django.urls import reverse

# Digits no route of ours contains, so the stand-in is found only where the key goes.
_STAND_IN = 918273645


def pk_url(viewname: str) -> Callable[[int], str]:
    """`pk_url("postloan:detail")(42)` == `reverse("postloan:detail", args=[42])`, for a view taking one integer key."""
    head, found, tail = reverse(viewname, args=[_STAND_IN]).partition(str(_STAND_IN))
    if not found:
        raise ImproperlyConfigured(f"{viewname} does not put its key in its path.")
    return lambda pk: f"{head}{int(pk)}{tail}"


def pk_url_in(context: Context, viewname: str) -> Callable[[int], str]:
    """`pk_url(viewname)`, kept for the rest of this template's rendering (one page, one language, one URL conf)."""
    builders = context.render_context.get(pk_url_in)
    if builders is None:
        builders = context.render_context[pk_url_in] = {}
    if viewname not in builders:
        builders[viewname] = pk_url(viewname)
    return builders[viewname]
