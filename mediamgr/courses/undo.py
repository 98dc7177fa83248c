"""The course editor's Undo: put back what a removal took away (items, a chapter, a whole course) from
the snapshot courses.service.keep_for_undo noted, or move moved items back where they were; and
drop the snapshots nobody undid once UNDO_KEEP passed (the maintenance round).

An Undo restores what can still be restored: an item whose file went to the trash (or is gone)
since, or whose chapter was deleted since, is counted as lost and said so."""
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..library.models import MediaFile
from ..locks import lock_row
from ..scoping import first_or_404, owned, owned_by
from ..timeutil import utcnow
from .models import Chapter, ChapterItem, Course, CourseUndo
from .service import MOVING_OFFSET, CourseEditRefused, editing_user, next_position, renumber, reorder_items, touch
from .usage import record_linked, refresh_usage

UNDO_KEEP = timedelta(hours=24)
GONE = "That can't be undone any more."


@dataclass
class Undone:
    course: Course
    restored: int = 0  # items put back (or moved back)
    lost: int = 0  # items that could not come back
    chapters: int = 0  # chapters put back

    @property
    def message(self):
        what = f"{self.restored} item{'s' if self.restored != 1 else ''}"
        text = f"Put back {what}" + (f" in {self.chapters} chapter{'s' if self.chapters != 1 else ''}" if self.chapters else "") + "."
        if self.lost:
            text += (f" {self.lost} item{'s' if self.lost != 1 else ''} could not come back: "
                     "the file is in the trash or its chapter was deleted.")
        return text


def get_undo_or_404(undo_id):
    return first_or_404(owned(CourseUndo).where(CourseUndo.id == undo_id,
                                                CourseUndo.created_at >= utcnow() - UNDO_KEEP))


def undo_course_edit(undo):
    """Undo the edit `undo` noted, once (the snapshot goes; two presses of Undo restore once)."""
    lock_row(CourseUndo, undo.id)
    if db.session.get(CourseUndo, undo.id, populate_existing=True) is None:
        raise CourseEditRefused(GONE)
    restore = {"remove": _put_back_items, "move": _move_back, "chapter": _put_back_chapter,
               "course": _put_back_course}[undo.kind]
    done = restore(undo)
    db.session.delete(undo)
    db.session.flush()
    return done


def purge_expired_undos(keep=UNDO_KEEP):
    """The maintenance round's: snapshots older than `keep` can no longer be undone."""
    removed = db.session.execute(sa.delete(CourseUndo).where(CourseUndo.created_at < utcnow() - keep)).rowcount
    db.session.commit()
    return removed


def _course(undo):
    course = db.session.scalar(owned_by(Course, undo.owner_id).where(Course.id == undo.course_id))
    if course is None:
        raise CourseEditRefused("The course was deleted since; nothing could be put back.")
    lock_row(Course, course.id)
    return course


def _files(undo, entries):
    """media id -> the owner's file, for the entries whose file is still in the library."""
    wanted = {entry["media_id"] for entry in entries}
    return {media.id: media for media in db.session.scalars(
        owned_by(MediaFile, undo.owner_id).where(MediaFile.id.in_(wanted), MediaFile.deleted_at.is_(None)))}


def _add_items(chapter, entries, files, at_end=True):
    """New items for the entries whose file is still there (positions after the chapter's last, or
    out of the way when `at_end` is False); returns (entry, item) pairs."""
    pairs = [(entry, ChapterItem(chapter_id=chapter.id, media_id=entry["media_id"], title=entry["title"]))
             for entry in sorted(entries, key=lambda entry: entry["position"]) if entry["media_id"] in files]
    first = next_position(ChapterItem, ChapterItem.chapter_id == chapter.id)
    for index, (_entry, item) in enumerate(pairs):
        item.position = first + index if at_end else -(MOVING_OFFSET + index)
    db.session.add_all([item for _entry, item in pairs])
    db.session.flush()
    actor = editing_user()
    for _entry, item in pairs:
        record_linked(files[item.media_id], chapter, item, actor, how="Put back into")
    return pairs


def _put_back_items(undo):
    """Removed items: each into its chapter at its old place (the end, when the chapter is shorter)."""
    course = _course(undo)
    entries = undo.snapshot["items"]
    files = _files(undo, entries)
    done = Undone(course)
    chapters = {chapter.id: chapter for chapter in db.session.scalars(
        sa.select(Chapter).where(Chapter.course_id == course.id,
                                 Chapter.id.in_({entry["chapter_id"] for entry in entries})).order_by(Chapter.id))}
    for chapter_id, chapter in chapters.items():
        lock_row(Chapter, chapter_id)
        ordered = db.session.scalars(sa.select(ChapterItem.id).where(ChapterItem.chapter_id == chapter_id)
                                     .order_by(ChapterItem.position)).all()
        pairs = _add_items(chapter, [entry for entry in entries if entry["chapter_id"] == chapter_id], files, at_end=False)
        for entry, item in pairs:  # in the order of their old places, so each lands where it was
            ordered.insert(min(entry["position"] - 1, len(ordered)), item.id)
        renumber(ChapterItem, ChapterItem.chapter_id == chapter_id, ordered)
        done.restored += len(pairs)
    done.lost = len(entries) - done.restored
    refresh_usage(files)
    touch(course)
    return done


def _move_back(undo):
    """Moved items: each back into the chapter it came from, at its old place."""
    course = _course(undo)
    entries = undo.snapshot["items"]
    where = dict(db.session.execute(sa.select(ChapterItem.id, ChapterItem.chapter_id)
                                    .join(Chapter, Chapter.id == ChapterItem.chapter_id)
                                    .where(ChapterItem.id.in_([entry["id"] for entry in entries]),
                                           Chapter.course_id == course.id)).all())
    done = Undone(course)
    origins = set(db.session.scalars(sa.select(Chapter.id).where(Chapter.course_id == course.id,
                                                                 Chapter.id.in_({entry["chapter_id"] for entry in entries}))))
    for chapter_id in sorted(origins):
        back = sorted((entry for entry in entries if entry["chapter_id"] == chapter_id and entry["id"] in where),
                      key=lambda entry: entry["position"])
        returning = {entry["id"] for entry in back}
        ordered = [item_id for item_id in db.session.scalars(
            sa.select(ChapterItem.id).where(ChapterItem.chapter_id == chapter_id).order_by(ChapterItem.position))
            if item_id not in returning]
        for entry in back:
            ordered.insert(min(entry["position"] - 1, len(ordered)), entry["id"])
        reorder_items(db.session.get(Chapter, chapter_id), ordered)
        done.restored += len(back)
    done.lost = len(entries) - done.restored
    touch(course)
    return done


def _put_back_chapters(undo, course, snapshot_chapters, done):
    files = _files(undo, [entry for chapter in snapshot_chapters for entry in chapter["items"]])
    for kept in snapshot_chapters:
        ordered = db.session.scalars(sa.select(Chapter.id).where(Chapter.course_id == course.id)
                                     .order_by(Chapter.position)).all()
        chapter = Chapter(course_id=course.id, title=kept["title"],
                          position=next_position(Chapter, Chapter.course_id == course.id))
        db.session.add(chapter)
        db.session.flush()
        ordered.insert(min(kept["position"] - 1, len(ordered)), chapter.id)
        renumber(Chapter, Chapter.course_id == course.id, ordered)
        restored = len(_add_items(chapter, kept["items"], files))
        done.restored += restored
        done.lost += len(kept["items"]) - restored
        done.chapters += 1
    refresh_usage(files)


def _put_back_chapter(undo):
    """A deleted chapter: at its old place in the course, with its items."""
    course = _course(undo)
    done = Undone(course)
    _put_back_chapters(undo, course, undo.snapshot["chapters"], done)
    touch(course)
    return done


def _put_back_course(undo):
    """A deleted course: again, with its chapters and their items (under a new id)."""
    course = Course(owner_id=undo.owner_id, title=undo.snapshot["course"]["title"])
    db.session.add(course)
    db.session.flush()
    done = Undone(course)
    _put_back_chapters(undo, course, sorted(undo.snapshot["chapters"], key=lambda kept: kept["position"]), done)
    return done
