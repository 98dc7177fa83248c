"""What can be done to a file's captions: add a track (or replace the track of that language), rename
its label, remove it. Each change writes a line of the file's history in the caller's transaction."""
import hashlib
import io

import sqlalchemy as sa
import webvtt

from ..extensions import db
from ..history import record_event
from ..library.batch import IN_TRASH
from ..library.service import EditRefused
from ..text import visible_text
from .formats import Cue, CaptionError, cue_clock, parse_cue_time, read_captions, vtt_clock
from .languages import LANGUAGES
from .models import MAX_LABEL_LENGTH, Caption

CAPTIONED_KINDS = ("video", "audio")


def captions_of(media):
    """The file's tracks, by label."""
    return db.session.scalars(sa.select(Caption).where(Caption.media_id == media.id)
                              .order_by(Caption.label, Caption.language)).all()


def caption_of(media, caption_id):
    """One track of `media` (already scoped to its user), or None."""
    return db.session.scalar(sa.select(Caption).where(Caption.id == caption_id, Caption.media_id == media.id))


def clean_label(raw, language):
    """The label the player's menu shows: one line, within its length; empty means the language's name."""
    label = visible_text(raw)
    if len(label) > MAX_LABEL_LENGTH:
        raise EditRefused(f"The label can be at most {MAX_LABEL_LENGTH} characters.")
    return label or LANGUAGES[language]


def add_captions(media, data, source_name, language, label, actor):
    """Store the captions in `data` (a .vtt or .srt file's bytes) as the track of `language`, replacing
    that language's track if there is one. Returns (caption, replaced, converted_from)."""
    _check_editable(media)
    if language not in LANGUAGES:
        raise EditRefused("Choose the language of the captions from the list.")
    label = clean_label(label, language)
    try:
        captions = read_captions(data)
    except CaptionError as refusal:
        raise EditRefused(str(refusal)) from None
    track = db.session.scalar(sa.select(Caption).where(Caption.media_id == media.id, Caption.language == language))
    replaced = track is not None
    if track is None:
        track = Caption(media_id=media.id, owner_id=media.owner_id, language=language)
        db.session.add(track)
    track.label, track.vtt, track.source_name = label, captions.vtt, visible_text(source_name)[:255]
    track.search_text = searchable(cue.text for cue in captions.cues)
    track.cue_count = len(captions.cues)
    verb = "Replaced" if replaced else "Added"
    record_event(media, "captions", f"{verb} the {LANGUAGES[language]} captions ({_cues(track.cue_count)})", actor,
                 {"language": language, "label": label, "cues": track.cue_count, "from": captions.converted_from})
    return track, replaced, captions.converted_from


def searchable(texts):
    """What search matches a track by: its cues' words (without markup), lower-cased, a line each
    (captions.search)."""
    return "\n".join(" ".join(text.lower().split()) for text in texts)


def relabel_captions(media, track, raw_label, actor):
    _check_editable(media)
    label = clean_label(raw_label, track.language)
    if label == track.label:
        return False
    old = track.label
    track.label = label
    record_event(media, "captions", f"Renamed the captions “{old}” to “{label}”", actor,
                 {"language": track.language, "old": old, "new": label})
    return True


def remove_captions(media, track, actor):
    _check_editable(media)
    db.session.delete(track)
    record_event(media, "captions", f"Removed the {LANGUAGES.get(track.language, track.language)} captions "
                                    f"“{track.label}”", actor, {"language": track.language, "label": track.label})


MAX_CUE_TEXT = 1000  # a few lines on screen; more is not a caption


def cues_of(track):
    """The track's cues, in order, as the cue editor shows them: their text with its markup (<i>, <b>),
    which a save keeps."""
    return [Cue(caption.start_time.in_milliseconds() / 1000, caption.end_time.in_milliseconds() / 1000,
                caption.raw_text) for caption in webvtt.from_buffer(io.StringIO(track.vtt)).captions]


def cue_token(cue):
    """What a cue was when the editor showed it: a save checks that it still is (another tab, a
    replaced track), so that it never overwrites a cue it did not show."""
    return hashlib.sha256(f"{cue.start}|{cue.end}|{cue.text}".encode()).hexdigest()[:16]


CHANGED_MEANWHILE = "This cue has changed since the captions were opened; here it is as it is now."


def edit_cue(media, track, index, was, start, end, text, actor):
    """Give cue number `index` (from 0) of `track`, which was `was` (cue_token) when shown, new times
    (as typed: m:ss.mmm or seconds) and text. Returns whether anything changed; refusals say what is
    wrong."""
    _check_editable(media)
    parsed = webvtt.from_buffer(io.StringIO(track.vtt))
    cues = cues_of(track)
    if not 0 <= index < len(cues) or cue_token(cues[index]) != was:
        raise EditRefused(CHANGED_MEANWHILE)
    try:
        start_at, end_at = parse_cue_time(start), parse_cue_time(end)
    except CaptionError as refusal:
        raise EditRefused(str(refusal)) from None
    if end_at <= start_at:
        raise EditRefused(f"The cue ends ({cue_clock(end_at)}) before it starts ({cue_clock(start_at)}).")
    lines = [" ".join(line.split()) for line in (text or "").replace("\r\n", "\n").split("\n")]
    text = "\n".join(line for line in lines if line)
    if not text:
        raise EditRefused("A cue needs some text; remove the words from the file if nothing is said there.")
    if len(text) > MAX_CUE_TEXT:
        raise EditRefused(f"A cue can hold at most {MAX_CUE_TEXT:,} characters.")
    if "-->" in text:
        raise EditRefused("A cue's text cannot hold “-->” (it would start a new cue).")
    caption = parsed.captions[index]
    before = (caption.start_time.in_milliseconds() / 1000, caption.end_time.in_milliseconds() / 1000, caption.raw_text)
    if before == (start_at, end_at, text):
        return False
    caption.start, caption.end, caption.text = vtt_clock(start_at), vtt_clock(end_at), text
    track.vtt = parsed.content
    track.search_text = searchable(caption.text for caption in parsed.captions)
    record_event(media, "captions", f"Edited the cue at {cue_clock(start_at)} of the captions “{track.label}”", actor,
                 {"language": track.language, "cue": index, "old": list(before), "new": [start_at, end_at, text]})
    return True


def adopt_captions(keep, others, actor):
    """Merging duplicates: `keep` takes the tracks of `others` in the languages it has none in (the
    first of `others` that has one wins); each move is a line of `keep`'s history."""
    have = {track.language for track in captions_of(keep)}
    for media in others:
        for track in captions_of(media):
            if track.language in have:
                continue
            have.add(track.language)
            track.media_id = keep.id
            record_event(keep, "captions", f"Took the {LANGUAGES.get(track.language, track.language)} captions "
                                           f"“{track.label}” from “{media.name}”", actor,
                         {"language": track.language, "from": media.id})


def _check_editable(media):
    if media.in_trash:
        raise EditRefused(IN_TRASH)
    if media.kind not in CAPTIONED_KINDS:
        raise EditRefused("Only videos and audio files have captions.")


def _cues(count):
    return f"{count:,} cue" + ("" if count == 1 else "s")
