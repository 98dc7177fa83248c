"""Alt text of images: what a screen reader says instead of the picture, wherever the image is shown.
Its rules live here: how long it may be, what it is cleaned of, and the suggestion made from the file
name while it is empty ("lecture-diagram_v2.png" -> "Lecture diagram v2")."""
import re

from ..history import record_event
from ..text import visible_text
from ..upload.names import split_extension
from .batch import IN_TRASH
from .models import MAX_ALT_TEXT_LENGTH
from .service import EditRefused

_WORD_BREAKS = re.compile(r"[-_+~]+")


class AltTextRefused(EditRefused):
    """Alt text that cannot be kept; shown under the alt text field."""

    field = "alt_text"


def clean_alt_text(raw):
    """One line of visible text, at most MAX_ALT_TEXT_LENGTH characters (refused, not cut short)."""
    text = visible_text(raw)
    if len(text) > MAX_ALT_TEXT_LENGTH:
        raise AltTextRefused(f"Alt text can be at most {MAX_ALT_TEXT_LENGTH} characters; this is {len(text)}. "
                          "Say what the image shows in a sentence or two, and put a longer account in the description.")
    return text


def suggested_alt_text(name):
    """Words from the file name, for a start: separators become spaces, the first letter a capital."""
    stem, _extension = split_extension(name or "")
    words = " ".join(_WORD_BREAKS.sub(" ", stem).split())
    return (words[:1].upper() + words[1:])[:MAX_ALT_TEXT_LENGTH]


def set_alt_text(media, raw, actor):
    """Give an image its alt text ("" clears it); True when it changed."""
    if media.in_trash:
        raise EditRefused(IN_TRASH)
    text = clean_alt_text(raw)
    if media.alt_text == text:
        return False
    media.alt_text = text
    record_event(media, "updated", "Changed the alt text" if text else "Cleared the alt text", actor, {"alt_text": text})
    return True
