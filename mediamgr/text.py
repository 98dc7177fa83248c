"""What every name a user types goes through before it is stored or shown: no control characters,
and no bidi overrides or invisible marks (they can make "gpj.exe" read as "exe.jpg", or two names
that look alike differ)."""
import re
import unicodedata

INVISIBLE = {0x061C, 0x200B, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF}


def visible_text(raw):
    """NFC text on one line: tabs and line breaks become spaces, control, bidi and invisible
    characters go, runs of spaces become one."""
    text = unicodedata.normalize("NFC", raw or "")
    text = "".join(" " if ch in "\t\r\n" else ch for ch in text)
    text = "".join(ch for ch in text if ord(ch) not in INVISIBLE and unicodedata.category(ch) != "Cc")
    return re.sub(r"\s+", " ", text).strip()


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text: one that would start a formula ("=", "+", "-", "@", a tab
    or a carriage return) gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
