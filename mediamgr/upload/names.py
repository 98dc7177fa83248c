"""Display names from user input: the stored key never comes from them, but they are shown,
sorted and used as download names, so they are made safe and tidy here."""
import re

from ..text import visible_text

MAX_NAME_LENGTH = 200
_EXTENSION = re.compile(r"^[a-z0-9]{1,5}$")


def sanitize_filename(raw, fallback="untitled"):
    """A single-line file name without path parts, control or bidi characters, within MAX_NAME_LENGTH."""
    text = re.split(r"[/\\]", raw or "")[-1]
    text = visible_text(text).lstrip(".").strip()
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
