"""Several items of a course at once (the editor's selection: remove, move, copy; a single Remove is
a batch of one), and the snapshots their Undo, and that of a chapter or course deleted, uses
(courses/undo.py puts them back). Callers commit."""
import sqlalchemy as sa
from flask import abort

from ..extensions import db
from ..locks import lock_row, lock_rows
from .models import Chapter, ChapterItem, Course
from .service import (CourseEditRefused, close_item_gaps, expire_loaded, keep_for_undo, link_media, reorder_items,
                      touch, unlink_history)
from .usage import refresh_usage

MAX_ITEMS_AT_ONCE = 1_000  # selected in the editor, or files added from the library's selection


def course_items(course, item_ids):
    """The course's items of these ids, in course order (chapter, then place); refused when one of
    them is not in the course any more."""
    wanted = set(item_ids)
    if not wanted:
        raise CourseEditRefused("Select at least one item first.")
    if len(wanted) > MAX_ITEMS_AT_ONCE:
        raise CourseEditRefused(f"Select at most {MAX_ITEMS_AT_ONCE:,} items at once.")
    rows = db.session.execute(
        sa.select(ChapterItem.id, ChapterItem.chapter_id, ChapterItem.media_id, ChapterItem.title, ChapterItem.position)
        .join(Chapter, Chapter.id == ChapterItem.chapter_id)
        .where(ChapterItem.id.in_(wanted), Chapter.course_id == course.id)
        .order_by(Chapter.position, ChapterItem.position)).all()
    if len(rows) != len(wanted):
        raise CourseEditRefused("Some of those items are not in this course any more; reload the page and try again.")
    return rows


def remove_items(course, item_ids):
    """Take these items of the course out of their chapters (the files stay in the library); the
    chapters close their gaps. Returns (the items' rows, the snapshot their Undo puts back)."""
    lock_row(Course, course.id)
    rows = course_items(course, item_ids)
    chapters = sorted({row.chapter_id for row in rows})
    lock_rows(Chapter, chapters)
    undo = keep_for_undo(course, "remove", items=rows)
    media_ids = unlink_history([row.id for row in rows])
    db.session.execute(sa.delete(ChapterItem).where(ChapterItem.id.in_([row.id for row in rows])))
    expire_loaded(ChapterItem)
    close_item_gaps(chapters)
    refresh_usage(media_ids)
    touch(course)
    return rows, undo


def move_items_to(course, item_ids, target):
    """Move these items of the course to the end of the chapter `target` (of the same course), in
    course order; those in it already stay where they are. Returns (the rows moved, the chapters they
    came from, the snapshot their Undo uses)."""
    if target.course_id != course.id:
        raise CourseEditRefused("Choose a chapter of this course.")
    lock_row(Course, course.id)
    rows = [row for row in course_items(course, item_ids) if row.chapter_id != target.id]
    if not rows:
        return rows, set(), None
    undo = keep_for_undo(course, "move", items=rows)
    current = db.session.scalars(sa.select(ChapterItem.id).where(ChapterItem.chapter_id == target.id)
                                 .order_by(ChapterItem.position)).all()
    sources = reorder_items(target, [*current, *(row.id for row in rows)])
    return rows, sources, undo


def copy_items_to(course, item_ids, target):
    """Link the files of these items of `course` at the end of the chapter `target` (another course
    of the same owner, or this one), under the items' titles. Returns the new items."""
    rows = course_items(course, item_ids)
    if target.course.owner_id != course.owner_id:
        abort(404)
    return link_media(target, [row.media_id for row in rows], titles={row.media_id: row.title for row in rows})
