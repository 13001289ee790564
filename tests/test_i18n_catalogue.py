"""Chinese is the default language: every string the code marks for translation must have a
Chinese translation, and the compiled catalogue the server loads must match the source."""

import ast
import gettext
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries():
    """(msgid, msgstr, flags and the context if any) for each entry of the .po, header excluded."""
    entries, cur, field, flags = [], None, None, set()
    for raw in PO.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if line.startswith("#,"):
            flags = {f.strip() for f in line[2:].split(",")}
        elif line.startswith("msgctxt "):
            cur = {"msgid": "", "msgstr": "", "flags": flags, "context": ast.literal_eval(line.split(" ", 1)[1])}
            field = "context"
        elif line.startswith("msgid ") or line.startswith("msgid_plural "):
            if cur is None:
                cur = {"msgid": "", "msgstr": "", "flags": flags}
            field = "msgid" if line.startswith("msgid ") else "plural"
            cur[field] = ast.literal_eval(line.split(" ", 1)[1])
        elif line.startswith("msgstr"):
            field = "msgstr"
            cur["msgstr"] += ast.literal_eval(line.split(" ", 1)[1])
        elif line.startswith('"') and cur is not None:
            cur[field] = cur.get(field, "") + ast.literal_eval(line)
        elif not line and cur is not None:
            if cur["msgid"]:
                entries.append(cur)
            cur, field, flags = None, None, set()
    return entries


def test_every_string_has_a_chinese_translation():
    entries = _entries()
    assert len(entries) > 500
    missing = [e["msgid"] for e in entries if not e["msgstr"]]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not missing, f"untranslated: {missing[:10]}"
    assert not fuzzy, f"fuzzy (a guess, not a translation): {fuzzy[:10]}"


def test_compiled_catalogue_matches_the_source():
    mo = gettext.GNUTranslations(open(PO.with_suffix(".mo"), "rb"))
    def compiled(e: dict) -> str:  # an entry with a context (pgettext) is keyed by it in the .mo
        return mo.pgettext(e["context"], e["msgid"]) if "context" in e else mo.gettext(e["msgid"])

    stale = [e["msgid"] for e in _entries() if "plural" not in e and compiled(e) != e["msgstr"]]
    assert not stale, f"run compilemessages; stale in django.mo: {stale[:10]}"
