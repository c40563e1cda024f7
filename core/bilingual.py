"""Names kept in both languages (branches, products, checklists, scripts): the one the page is shown in."""

from django.utils import translation


def bilingual(zh: str, en: str) -> str:
    """The English text on an English page when there is one; the Chinese otherwise."""
    return en if translation.get_language() == "en" and en else zh
