#!/usr/bin/env python3
"""Bring the catalogues up to date with the code and add French translations:
tools/translate.py [FILE.json]

1. ``makemessages -l fr -l en`` from ``src/consulto`` (every message the code and templates use,
   exactly as Django looks them up: a ``%`` inside ``{% translate %}`` is written ``%%``);
2. the French of FILE.json (``{"English": "Français"}``; a plural as
   ``{"__plurals__": [{"msgid": ["one", "many"], "msgstr": ["un", "plusieurs"]}]}``) fills the
   entries that have none, or replaces a translation that differs;
3. both catalogues are compiled with msgfmt (Debian's gettext).

Then it lists what is still untranslated in French: ``tests/core/test_translations.py`` fails
while anything is. Run it from anywhere; it needs the project's venv.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "consulto"
LOCALE = PACKAGE / "locale"
PYTHON = ROOT / ".venv" / "bin" / "python"


def _makemessages() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), DJANGO_SETTINGS_MODULE="consulto.settings")
    # -P: the working directory (the package) is not put on sys.path, where its ``fhir`` app would
    # hide the fhir.resources library.
    subprocess.run(
        [str(PYTHON), "-P", "-m", "django", "makemessages", "-l", "fr", "-l", "en", "--no-obsolete"],
        cwd=PACKAGE,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _fill(path: Path, wanted: dict, plurals: list) -> list[str]:
    import polib

    po = polib.pofile(str(path))
    by_id = {entry.msgid: entry for entry in po}
    unknown = [msgid for msgid in wanted if msgid not in by_id]
    for msgid, msgstr in wanted.items():
        if msgid in by_id:
            by_id[msgid].msgstr = msgstr
            if "fuzzy" in by_id[msgid].flags:
                by_id[msgid].flags.remove("fuzzy")
    for plural in plurals:
        entry = by_id.get(plural["msgid"][0])
        if entry is None:
            unknown.append(plural["msgid"][0])
            continue
        entry.msgstr_plural = dict(enumerate(plural["msgstr"]))
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    po.save(str(path))
    return unknown


def main(argv: list[str]) -> int:
    wanted = json.loads(Path(argv[0]).read_text(encoding="utf-8")) if argv else {}
    plurals = wanted.pop("__plurals__", [])
    _makemessages()
    fr = LOCALE / "fr" / "LC_MESSAGES" / "django.po"
    unknown = _fill(fr, wanted, plurals)
    for language in ("fr", "en"):
        po = LOCALE / language / "LC_MESSAGES" / "django.po"
        # gettext's own layout, as makemessages writes it: the next run changes only what changed.
        subprocess.run(["msgcat", "--width=79", "-o", str(po), str(po)], check=True)
        subprocess.run(["msgfmt", "-c", "-o", str(po.with_suffix(".mo")), str(po)], check=True)
    import polib

    left = polib.pofile(str(fr))
    for msgid in unknown:
        print(f"not used by the code (check the spelling): {msgid!r}", file=sys.stderr)
    todo = left.untranslated_entries() + left.fuzzy_entries()
    for entry in todo:
        print(f"untranslated: {entry.msgid!r}", file=sys.stderr)
    print(f"fr: {len(left.translated_entries())} translated, {len(todo)} to do", file=sys.stderr)
    return 1 if todo or unknown else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help")):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
