"""Why a file matched a search, when it was not by its name: the tag, category or description that
holds a searched word (search matches models.search_text_of, word by word), or the cue of its
captions where the words are said and when (captions.search), for the card to say."""
import re
from dataclasses import dataclass

from flask import g

from ..templating import human_duration

SNIPPET_BEFORE = 40
SNIPPET_AFTER = 60


@dataclass(frozen=True)
class MatchReason:
    """Where a word was found, and the text around it: `before` + `hit` + `after` is what the card
    shows (plain text: the template escapes it and marks `hit`)."""

    where: str  # "tag", "category", "description" or "captions"
    before: str = ""
    hit: str = ""
    after: str = ""
    at: str = ""  # captions: when the cue is said ("12:34")
    label: str = ""  # captions: the track's label


def match_reason(media, query):
    """The reason `media` matched `query` (a LibraryFilter's q) outside its name; None when every
    word is in the name, or the query is empty."""
    name = media.name.lower()
    first = None
    for word in query.lower().split():
        if word in name:
            continue
        reason = _in_details(media, word)
        if reason is None:  # a word the file's own text lacks: it was found by its captions
            return _in_captions(media, query) or first
        first = first or reason
    return first


def _in_details(media, word):
    tag = next((tag for tag in media.tag_names if word in tag), None)
    if tag is not None:
        return MatchReason("tag", *_around(tag, word))
    if word in (media.category or "").lower():
        return MatchReason("category", *_around(media.category, word))
    description = " ".join((media.description or "").split())
    if word in description.lower():
        return MatchReason("description", *_around(description, word, SNIPPET_BEFORE, SNIPPET_AFTER))
    return None


def _in_captions(media, query):
    """The cue the page's search found in the file's captions (captions.search.note_spoken_cues)."""
    found = (g.get("spoken_cues") or {}).get(media.id)
    if found is None:
        return None
    label, start, text = found
    word = next((word for word in query.lower().split() if word in text.lower()), "")
    return MatchReason("captions", *_around(text, word, SNIPPET_BEFORE, SNIPPET_AFTER), at=human_duration(start),
                       label=label)


def _around(text, word, before=None, after=None):
    """(text before, the word as written, text after) of the first place `word` is in `text`, cut to
    `before` and `after` characters at word boundaries with an ellipsis; the whole text unmarked when
    a case rule of the database's lower() and Python's differ and the word is not found again."""
    found = re.search(re.escape(word), text, re.IGNORECASE)
    if not found:
        return text if before is None else _cut_end(text, before + after), "", ""
    head, hit, tail = text[:found.start()], found.group(0), text[found.end():]
    if before is not None:
        head, tail = _cut_start(head, before), _cut_end(tail, after)
    return head, hit, tail


def _cut_start(text, length):
    if len(text) <= length:
        return text
    cut = text[-length:]
    space = cut.find(" ")
    return "…" + (cut[space + 1:] if 0 <= space < length // 2 else cut)


def _cut_end(text, length):
    if len(text) <= length:
        return text
    cut = text[:length]
    space = cut.rfind(" ")
    return (cut[:space] if space > length // 2 else cut) + "…"
