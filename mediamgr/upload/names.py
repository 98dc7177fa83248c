"""Display names from user input: the stored key never comes from them, but they are shown,
sorted and used as download names, so they are made safe and tidy here. A name is a label, not a
path: "Q&A session 1/2" keeps every character, with the slash shown as a look-alike that no file
system or URL takes for a separator."""
import re

from ..text import visible_text

MAX_NAME_LENGTH = 200
_EXTENSION = re.compile(r"^[a-z0-9]{1,5}$")
# "/" and "\" cannot be stored as typed (downloads, archives and file systems read them as folders).
SEPARATORS = {"/": "\u2215", "\\": "\u29f5"}  # DIVISION SLASH, REVERSE SOLIDUS OPERATOR
_SEPARATORS = str.maketrans(SEPARATORS)


def sanitize_filename(raw, fallback="untitled"):
    """A single-line file name without control or bidi characters, within MAX_NAME_LENGTH; "/" and "\\"
    become look-alikes (SEPARATORS) rather than cut the name."""
    text = visible_text((raw or "").translate(_SEPARATORS)).lstrip(".").strip()
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


def what_changed(typed, kept):
    """A sentence for the person who typed `typed` and got `kept`: which characters were replaced, or
    that some could not be kept; "" when the name is as typed."""
    replaced = [char for char in SEPARATORS if char in (typed or "")]
    if replaced:
        typed_chars = " and ".join(f"“{char}”" for char in replaced)
        shown = " and ".join(f"“{SEPARATORS[char]}”" for char in replaced)
        one = len(replaced) == 1
        return (f"{typed_chars} cannot be part of a name, so {'it is' if one else 'they are'} shown as {shown}.")
    if visible_text(typed or "").strip() not in kept:
        return "Some characters could not be kept (line breaks, invisible characters, or a name that was too long)."
    return ""
