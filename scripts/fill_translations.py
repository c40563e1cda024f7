"""Fill msgstr in locale/zh_Hans from a {msgid: translation} dict in a Python file; report what is missing.

Usage: .venv/bin/python scripts/fill_translations.py PATH_TO_DICT.py   (needs `pip install polib`, a dev tool)
"""

import runpy
import sys

import polib

PO = "locale/zh_Hans/LC_MESSAGES/django.po"

translations = runpy.run_path(sys.argv[1])["ZH"]
catalog = polib.pofile(PO)
missing = []
for entry in catalog:
    if entry.obsolete:
        continue
    if entry.msgid in translations:
        text = translations[entry.msgid]
        if entry.msgid_plural:
            entry.msgstr_plural = {0: text}
        else:
            entry.msgstr = text
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    elif not (entry.msgstr or any(entry.msgstr_plural.values())) or "fuzzy" in entry.flags:
        missing.append(entry.msgid)
catalog.metadata.update(
    {"Project-Id-Version": "LoanTrack", "Language": "zh_Hans", "Language-Team": "LoanTrack <dev@loantrack.local>"}
)
catalog.metadata_is_fuzzy = False
catalog.header = "LoanTrack: Simplified Chinese catalog (the default interface language)."
catalog.save(PO)
print(f"{len(catalog)} entries, {len(missing)} missing")
for msgid in missing:
    print(repr(msgid))
