"""What can be done to a file's captions: add a track (or replace the track of that language), rename
its label, remove it. Each change writes a line of the file's history in the caller's transaction."""
import sqlalchemy as sa

from ..extensions import db
from ..history import record_event
from ..library.batch import IN_TRASH
from ..library.service import EditRefused
from ..text import visible_text
from .formats import CaptionError, read_captions
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
    track.search_text = searchable(captions.cues)
    track.cue_count = len(captions.cues)
    verb = "Replaced" if replaced else "Added"
    record_event(media, "captions", f"{verb} the {LANGUAGES[language]} captions ({_cues(track.cue_count)})", actor,
                 {"language": language, "label": label, "cues": track.cue_count, "from": captions.converted_from})
    return track, replaced, captions.converted_from


def searchable(cues):
    """What search matches a track by: its cues' text, lower-cased, a line each (captions.search)."""
    return "\n".join(" ".join(cue.text.lower().split()) for cue in cues)


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
