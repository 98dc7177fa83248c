"""Display names from user input: the stored key never comes from them, but they are shown,
sorted and used as download names, so they are made safe and tidy here."""
import re
import unicodedata

MAX_NAME_LENGTH = 200
# Bidi overrides and isolates can make "gpj.exe" read as "exe.jpg"; strip them with control characters.
_INVISIBLE = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF}
_EXTENSION = re.compile(r"^[a-z0-9]{1,5}$")


def sanitize_filename(raw, fallback="untitled"):
    """A single-line file name without path parts, control or bidi characters, within MAX_NAME_LENGTH."""
    text = unicodedata.normalize("NFC", raw or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(" " if ch in "\t\r\n" else ch for ch in text)
    text = "".join(ch for ch in text if ord(ch) not in _INVISIBLE and unicodedata.category(ch) != "Cc")
    text = re.sub(r"\s+", " ", text).strip().lstrip(".").strip()
    stem, ext = split_extension(text)
    stem = stem.rstrip()
    if not stem:
        return fallback if not ext else fallback.rsplit(".", 1)[0] + ext
    return stem[: MAX_NAME_LENGTH - len(ext)].rstrip() + ext


def split_extension(name):
    """('Lecture 1', '.mp4') for 'Lecture 1.mp4'; ('v1.2 notes', '') when the tail is not an extension."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem and _EXTENSION.match(ext.lower()) and not ext.isdigit():
        return stem, f".{ext}"
    return name, ""


def extension_of(name):
    return split_extension(name)[1].lower().lstrip(".")
