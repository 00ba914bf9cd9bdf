#!/usr/bin/env python3
"""Add French translations to the catalogue and compile it: tools/translate.py FILE.json

FILE.json maps each English message id to its French text: {"Slot taken": "Créneau pris"}.
A plural is written {"msgid": ["one", "many"], "msgstr": ["un", "plusieurs"]} in a list under
the key "__plurals__". New entries are appended as text (without source locations:
``manage.py makemessages -l fr -l en`` adds those when someone runs it); an entry already
translated differently is reported, not changed. Both catalogues (fr, en) are compiled
afterwards. Needs polib (in the test dependencies).
"""

import json
import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "src" / "consulto" / "locale"


def _append(po_path: Path, entries: list[polib.POEntry]) -> None:
    # Appended as text: saving through polib would rewrap every entry of the file.
    if entries:
        with po_path.open("a", encoding="utf-8") as out:
            for entry in entries:
                out.write("\n" + entry.__unicode__(wrapwidth=79))


def main(path: str) -> int:
    wanted = json.loads(Path(path).read_text(encoding="utf-8"))
    plurals = wanted.pop("__plurals__", [])
    fr_path = LOCALE / "fr" / "LC_MESSAGES" / "django.po"
    en_path = LOCALE / "en" / "LC_MESSAGES" / "django.po"
    fr, en = polib.pofile(str(fr_path)), polib.pofile(str(en_path))
    new_fr, new_en, clashes = [], [], []
    for msgid, msgstr in wanted.items():
        entry = fr.find(msgid)
        if entry is None:
            new_fr.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
        elif entry.msgstr != msgstr:
            clashes.append(msgid)
        if en.find(msgid) is None:
            new_en.append(polib.POEntry(msgid=msgid, msgstr=""))
    for plural in plurals:
        one, many = plural["msgid"]
        if fr.find(one) is None:
            forms = dict(enumerate(plural["msgstr"]))
            new_fr.append(polib.POEntry(msgid=one, msgid_plural=many, msgstr_plural=forms))
        if en.find(one) is None:
            new_en.append(polib.POEntry(msgid=one, msgid_plural=many, msgstr_plural={0: "", 1: ""}))
    if clashes:
        print("already translated differently (edit django.po by hand):", file=sys.stderr)
        for msgid in clashes:
            print(f"  {msgid!r}", file=sys.stderr)
    _append(fr_path, new_fr)
    _append(en_path, new_en)
    for po_path in (fr_path, en_path):
        polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
    print(f"{len(new_fr)} added; fr and en compiled")
    return 1 if clashes else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
