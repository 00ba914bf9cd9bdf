from pathlib import Path

import polib

import consulto

LOCALE = Path(consulto.__file__).parent / "locale"


def test_every_french_message_is_translated():
    po = polib.pofile(str(LOCALE / "fr" / "LC_MESSAGES" / "django.po"))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []


def test_the_compiled_catalogue_is_up_to_date():
    po = LOCALE / "fr" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert mo.exists()
    compiled = {e.msgid: e.msgstr for e in polib.mofile(str(mo))}
    for entry in polib.pofile(str(po)).translated_entries():
        if not entry.msgid_plural:
            assert compiled.get(entry.msgid) == entry.msgstr, entry.msgid
