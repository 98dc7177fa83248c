"""A video's chapter markers: the ones a detection proposes, and the instructor's renames, moves,
removals and additions. Each change writes a line of the file's history in the caller's transaction
(callers commit). The player reads them as a WebVTT chapters track (chapters_vtt)."""
import sqlalchemy as sa

from ..captions.formats import vtt_clock
from ..extensions import db
from ..history import record_event
from ..library.batch import IN_TRASH
from ..library.service import EditRefused
from ..text import visible_text
from .models import MAX_MARKER_TITLE, ChapterMarker

NEAR = 3.0  # seconds: a proposed marker this close to one the instructor made or moved is left out


def markers_of(media):
    return list(db.session.scalars(sa.select(ChapterMarker).where(ChapterMarker.media_id == media.id)
                                   .order_by(ChapterMarker.seconds, ChapterMarker.id)))


def marker_of(media, marker_id):
    """The file's marker of this id, or None (another file's marker is not found either)."""
    return db.session.scalar(sa.select(ChapterMarker).where(ChapterMarker.id == marker_id,
                                                            ChapterMarker.media_id == media.id))


def clock(seconds):
    """1:05 or 1:02:03 (whole seconds): how the page shows a marker's time."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def put_proposed(media, proposed):
    """A detection's markers replace the ones detected before; markers the instructor edited or
    added stay (a proposal within NEAR of one of them is left out). Returns the markers added."""
    kept = [m for m in markers_of(media) if m.source != "detected"]
    db.session.execute(sa.delete(ChapterMarker).where(ChapterMarker.media_id == media.id,
                                                      ChapterMarker.source == "detected"))
    added = [ChapterMarker(media_id=media.id, owner_id=media.owner_id, seconds=p.seconds, title=p.title,
                           source="detected")
             for p in proposed if not any(abs(p.seconds - m.seconds) < NEAR for m in kept)]
    db.session.add_all(added)
    record_event(media, "chapters_proposed", f"Proposed {len(added)} chapter marker{'s' if len(added) != 1 else ''} "
                                             "from scene changes", None, {"count": len(added)})
    return added


def edit_marker(media, marker, title, seconds, actor):
    """Rename and/or move a marker. Returns whether anything changed."""
    _editable(media)
    title, seconds = _checked(media, title, seconds)
    if title == marker.title and abs(seconds - marker.seconds) < 0.001:
        return False
    was = (marker.title, marker.seconds)
    moved = abs(seconds - marker.seconds) >= 0.001
    marker.title, marker.seconds, marker.source = title, seconds, "edited" if marker.source == "detected" else marker.source
    if moved:
        marker.thumbnail_key = None  # a frame at the new time is made by the next thumbnails job
    what = []
    if title != was[0]:
        what.append(f"renamed “{was[0]}” to “{title}”")
    if moved:
        what.append(f"moved “{title}” from {clock(was[1])} to {clock(seconds)}")
    record_event(media, "chapter_edited", "Chapter marker " + " and ".join(what), actor,
                 {"marker": marker.id, "title": title, "seconds": seconds, "was": {"title": was[0], "seconds": was[1]}})
    return True


def add_marker(media, title, seconds, actor):
    _editable(media)
    title, seconds = _checked(media, title, seconds)
    marker = ChapterMarker(media_id=media.id, owner_id=media.owner_id, seconds=seconds, title=title, source="added")
    db.session.add(marker)
    db.session.flush()
    record_event(media, "chapter_added", f"Added the chapter marker “{title}” at {clock(seconds)}", actor,
                 {"marker": marker.id, "title": title, "seconds": seconds})
    return marker


def remove_marker(media, marker, actor):
    _editable(media)
    db.session.delete(marker)
    record_event(media, "chapter_removed", f"Removed the chapter marker “{marker.title}” at {clock(marker.seconds)}",
                 actor, {"title": marker.title, "seconds": marker.seconds})


def _editable(media):
    if media.in_trash:
        raise EditRefused(IN_TRASH)
    if media.kind != "video":
        raise EditRefused("Only videos have chapter markers.")


def _checked(media, title, seconds):
    title = visible_text(title or "")
    if not title:
        raise EditRefused("A chapter needs a title.")
    if len(title) > MAX_MARKER_TITLE:
        raise EditRefused(f"A chapter title can be at most {MAX_MARKER_TITLE} characters.")
    if seconds < 0 or (media.duration_seconds and seconds >= media.duration_seconds):
        end = f" ({clock(media.duration_seconds)})" if media.duration_seconds else ""
        raise EditRefused(f"{clock(seconds)} is not within the video{end}.")
    return title, round(seconds, 3)


def chapters_vtt(media, markers):
    """The markers as a WebVTT chapters track: each chapter runs to the next one (the last to the end)."""
    lines = ["WEBVTT", ""]
    end_of_video = media.duration_seconds or (markers[-1].seconds + 1 if markers else 0)
    for number, marker in enumerate(markers):
        end = markers[number + 1].seconds if number + 1 < len(markers) else end_of_video
        if end <= marker.seconds:
            continue
        lines += [f"chapter-{marker.id}", f"{vtt_clock(marker.seconds)} --> {vtt_clock(end)}",
                  marker.title.replace("-->", "→"), ""]
    return "\n".join(lines)
