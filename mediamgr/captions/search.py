"""Search in what was said: the files one of whose caption tracks holds every word of a search, and,
for a page of results, the cue each was found in and when it is said.

A track's cues are kept lower-cased in captions.search_text, behind a trigram index (SQLite: the FTS5
table caption_search; PostgreSQL: a pg_trgm GIN index keyed by owner, migration 0021). Asked once per
request (the count and the page ask the same), and only of a user who has captions at all
(User.has_captions, read with the user), so a library without captions searches as it always did.
"""
import io

import sqlalchemy as sa
import webvtt
from flask import g, has_request_context

from ..extensions import db
from ..library.search import escape_like
from ..scoping import scoped, sees_everyone
from .models import Caption

SPOKEN_LIMIT = 2000  # files found by their captions per search; more is no longer a search
MIN_INDEXED_LENGTH = 3

_caption_search = sa.table("caption_search", sa.column("rowid"), sa.column("caption_search"))


def spoken_in(words, user):
    """Ids of the files in `user`'s scope that have a caption track holding every one of `words`."""
    if not words or not (sees_everyone(user) or user.has_captions):
        return []
    memo = g.setdefault("spoken_in", {}) if has_request_context() else {}
    key = (tuple(words), user.id)
    if key not in memo:
        tracks = scoped(sa.select(Caption.media_id).distinct(), Caption.owner_id, user)
        memo[key] = db.session.scalars(tracks.where(*_holding(words)).limit(SPOKEN_LIMIT)).all()
    return memo[key]


def _holding(words):
    indexed = [word for word in words if len(word) >= MIN_INDEXED_LENGTH]
    conditions = [Caption.search_text.like(f"%{escape_like(word)}%", escape="\\")
                  for word in words if db.session.get_bind().dialect.name != "sqlite" or word not in indexed]
    if db.session.get_bind().dialect.name == "sqlite" and indexed:
        phrases = " AND ".join('"' + word.replace('"', '""') + '"' for word in indexed)
        conditions.append(Caption.id.in_(sa.select(_caption_search.c.rowid)
                                         .where(_caption_search.c.caption_search.op("MATCH")(phrases))))
    return conditions


def note_spoken_cues(media_ids, words):
    """For the cards of a page (library.matching): {media id: (track label, cue start in seconds, cue
    text)} of the files among `media_ids` found by their captions in this request, the first cue
    holding the most of `words`, in one query; kept in flask.g as "spoken_cues"."""
    found = set(media_ids) & {media_id for ids in (g.get("spoken_in") or {}).values() for media_id in ids}
    g.spoken_cues = cues = {}
    if not found:
        return cues
    rows = db.session.execute(sa.select(Caption.media_id, Caption.label, Caption.vtt)
                              .where(Caption.media_id.in_(found), *_holding(words)).order_by(Caption.id))
    for media_id, label, vtt in rows:
        if media_id not in cues:
            cue = _best_cue(vtt, words)
            if cue is not None:
                cues[media_id] = (label, *cue)
    return cues


def _best_cue(vtt, words):
    best, best_count = None, 0
    for caption in webvtt.from_buffer(io.StringIO(vtt)).captions:
        text = " ".join(caption.text.split())
        count = sum(word in text.lower() for word in words)
        if count > best_count:
            best, best_count = (caption.start_time.in_milliseconds() / 1000, text), count
            if count == len(words):
                break
    return best

