"""Why a file matched a search, when it was not by its name: the tag, category or description that
holds a searched word (search matches models.search_text_of, word by word), for the card to say."""
import re
from dataclasses import dataclass

SNIPPET_BEFORE = 40
SNIPPET_AFTER = 60


@dataclass(frozen=True)
class MatchReason:
    """Where a word was found, and the text around it: `before` + `hit` + `after` is what the card
    shows (plain text: the template escapes it and marks `hit`)."""

    where: str  # "tag", "category" or "description"
    before: str = ""
    hit: str = ""
    after: str = ""


def match_reason(media, query):
    """The reason `media` matched `query` (a LibraryFilter's q) outside its name; None when every
    word is in the name, or the query is empty."""
    name = media.name.lower()
    for word in query.lower().split():
        if word in name:
            continue
        tag = next((tag for tag in media.tag_names if word in tag), None)
        if tag is not None:
            return MatchReason("tag", *_around(tag, word))
        if word in (media.category or "").lower():
            return MatchReason("category", *_around(media.category, word))
        description = " ".join((media.description or "").split())
        if word in description.lower():
            return MatchReason("description", *_around(description, word, SNIPPET_BEFORE, SNIPPET_AFTER))
    return None


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
