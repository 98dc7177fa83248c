"""What can happen to courses and chapters. Callers commit.

Every lookup is scoped to the signed-in user (an admin sees all); a chapter or item is reached
through its course, so another instructor's ids answer 404 like unknown ones.
"""
import sqlalchemy as sa
from flask import abort, has_request_context
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..library.models import MediaFile
from ..locks import lock_row, lock_rows
from ..parsing import parse_id
from ..scoping import first_or_404, get_owned_or_404, owned_by, scoped, scoped_to
from ..timeutil import utcnow
from ..upload.names import split_extension
from .models import Chapter, ChapterItem, Course, CourseUndo, RemovedLink
from .usage import places, record_linked, record_unlinked, refresh_usage, removed_links

MAX_TITLE_LENGTH = 200
MOVING_OFFSET = 10**9  # items dragged in from another chapter wait at -(id + this) until renumbered


class CourseEditRefused(ValueError):
    """An edit that cannot be made; the message is for the user."""


def clean_title(raw, what="title"):
    title = " ".join((raw or "").split())
    if not title:
        raise CourseEditRefused(f"The {what} can't be empty.")
    if len(title) > MAX_TITLE_LENGTH:
        raise CourseEditRefused(f"The {what} can be at most {MAX_TITLE_LENGTH} characters.")
    return title


def get_course_or_404(course_id):
    return get_owned_or_404(Course, course_id)


def course_for_editor_or_404(course_id):
    """The course with its chapters loaded (their items come from editor_items)."""
    return first_or_404(scoped(sa.select(Course).where(Course.id == course_id).options(selectinload(Course.chapters)),
                               Course.owner_id))


def editor_items(chapter_ids):
    """chapter id -> its items in order, as plain rows with what the editor shows of each file; one
    query, no ORM objects (a course of 50 chapters × 50 items renders in tens of milliseconds)."""
    found = {chapter_id: [] for chapter_id in chapter_ids}
    if not chapter_ids:
        return found
    rows = db.session.execute(
        sa.select(ChapterItem.id, ChapterItem.chapter_id, ChapterItem.title, ChapterItem.position,
                  ChapterItem.media_id, MediaFile.kind, MediaFile.name, MediaFile.alt_text, MediaFile.size_bytes, MediaFile.duration_seconds,
                  MediaFile.thumbnail_key.is_not(None).label("has_thumbnail"))
        .join(MediaFile, MediaFile.id == ChapterItem.media_id)
        .where(ChapterItem.chapter_id.in_(list(chapter_ids))).order_by(ChapterItem.chapter_id, ChapterItem.position))
    for row in rows:
        found[row.chapter_id].append(row)
    return found


def _chapter_query(chapter_id):
    return sa.select(Chapter).join(Course, Course.id == Chapter.course_id).where(Chapter.id == chapter_id)


def get_chapter_or_404(chapter_id):
    return first_or_404(scoped(_chapter_query(chapter_id), Course.owner_id))


def own_chapter(raw_id):
    """The signed-in user's own chapter of this id, or None: an upload goes into the uploader's
    library, so only their own courses can link it (an admin too)."""
    chapter_id = parse_id(raw_id)
    if chapter_id is None:
        return None
    return db.session.scalar(scoped_to(_chapter_query(chapter_id), Course.owner_id, current_user.id))


def touch(course):
    course.updated_at = utcnow()


def touch_courses(course_ids):
    if course_ids:
        db.session.execute(sa.update(Course).where(Course.id.in_(list(course_ids))).values(updated_at=utcnow()))


def editing_user():
    """Who is editing: the signed-in user (None in a background job)."""
    return current_user if has_request_context() and current_user.is_authenticated else None


def unlink_history(item_ids, why=""):
    """History lines for the items about to go; returns their files' ids (to recount after)."""
    gone = places(item_ids=item_ids)
    files = {row.id: row for row in db.session.execute(
        sa.select(MediaFile.id, MediaFile.owner_id, MediaFile.name).where(MediaFile.id.in_(list(gone))))}
    record_unlinked([(files[media_id], place) for media_id, file_places in gone.items() for place in file_places],
                    editing_user(), why)
    return list(gone)


def create_course(user, title):
    course = Course(owner_id=user.id, title=clean_title(title))
    db.session.add(course)
    db.session.flush()
    return course


def rename_course(course, title):
    course.title = clean_title(title)
    touch(course)


def add_chapter(course, title):
    """A new chapter at the end of the course."""
    lock_row(Course, course.id)
    chapter = Chapter(course_id=course.id, title=clean_title(title, "chapter title"),
                      position=next_position(Chapter, Chapter.course_id == course.id))
    db.session.add(chapter)
    touch(course)
    db.session.flush()
    return chapter


def rename_chapter(chapter, title):
    chapter.title = clean_title(title, "chapter title")
    touch(chapter.course)


def delete_chapter(chapter):
    """Delete the chapter and its links (never the files); the others close the gap. Returns the
    snapshot its Undo puts back."""
    course = chapter.course
    lock_row(Course, course.id)
    undo = keep_for_undo(course, "chapter", [chapter])
    media_ids = unlink_history(db.session.scalars(sa.select(ChapterItem.id)
                                                   .where(ChapterItem.chapter_id == chapter.id)).all(),
                                " (chapter deleted)")
    db.session.delete(chapter)
    db.session.flush()
    _close_gaps(Chapter, Chapter.course_id == course.id)
    refresh_usage(media_ids)
    touch(course)
    return undo


def delete_course(course):
    """Delete the course with its chapters and links (never the files). Returns the snapshot its
    Undo puts back."""
    lock_row(Course, course.id)
    undo = keep_for_undo(course, "course", course.chapters)
    items = db.session.scalars(sa.select(ChapterItem.id).join(Chapter, Chapter.id == ChapterItem.chapter_id)
                               .where(Chapter.course_id == course.id)).all()
    media_ids = unlink_history(items, " (course deleted)")
    db.session.delete(course)
    db.session.flush()
    refresh_usage(media_ids)
    return undo


def reorder_chapters(course, ordered_ids):
    """Put the course's chapters in the order given (every chapter exactly once)."""
    lock_row(Course, course.id)
    current = db.session.scalars(sa.select(Chapter.id).where(Chapter.course_id == course.id)).all()
    if sorted(current) != sorted(ordered_ids):
        raise CourseEditRefused("The course changed meanwhile; reload the page and try again.")
    renumber(Chapter, Chapter.course_id == course.id, ordered_ids)
    touch(course)


def next_position(model, parent_clause):
    return (db.session.scalar(sa.select(sa.func.max(model.position)).where(parent_clause)) or 0) + 1


def _close_gaps(model, parent_clause):
    """Positions 1..n again, in their current order (after a row left)."""
    renumber(model, parent_clause, db.session.scalars(sa.select(model.id).where(parent_clause)
                                                      .order_by(model.position)).all())


def renumber(model, parent_clause, ordered_ids):
    """Positions 1..n in `ordered_ids` order, in two statements that never collide: first every row
    moves to a negative position, then to its place."""
    if not ordered_ids:
        return
    db.session.execute(sa.update(model).where(parent_clause).values(position=-model.position - 1))
    db.session.execute(sa.update(model).where(parent_clause, model.id.in_(ordered_ids)).values(
        position=sa.case({row_id: index for index, row_id in enumerate(ordered_ids, start=1)}, value=model.id)))
    expire_loaded(model)


def expire_loaded(model):
    """The positions changed in the database: loaded rows of `model` (and the lists holding them)
    read them again when next used; other loaded rows (the course, say) stay as they are."""
    parent, children = (Course, "chapters") if model is Chapter else (Chapter, "items")
    for row in list(db.session.identity_map.values()):
        if isinstance(row, model):
            db.session.expire(row)
        elif isinstance(row, parent):
            db.session.expire(row, [children])


def course_summaries(user):
    """The user's courses, newest change first, with their chapter and item counts (one query)."""
    chapters = (sa.select(sa.func.count(Chapter.id)).where(Chapter.course_id == Course.id)
                .correlate(Course).scalar_subquery())
    items = (sa.select(sa.func.count(ChapterItem.id)).join(Chapter, Chapter.id == ChapterItem.chapter_id)
             .where(Chapter.course_id == Course.id).correlate(Course).scalar_subquery())
    query = sa.select(Course, chapters.label("chapters"), items.label("items")).order_by(Course.updated_at.desc(),
                                                                                         Course.id.desc())
    return db.session.execute(scoped(query, Course.owner_id, user)).all()


# ---- chapter items ----------------------------------------------------------------------------

def get_item_or_404(item_id):
    return first_or_404(scoped(sa.select(ChapterItem).join(Chapter, Chapter.id == ChapterItem.chapter_id)
                               .join(Course, Course.id == Chapter.course_id).where(ChapterItem.id == item_id),
                               Course.owner_id))


def default_title(name):
    """An item's title when it is linked: its file's name without the extension."""
    return split_extension(name)[0][:255]


def already_linked(chapter, media_ids):
    """The ids among `media_ids` that the chapter links already."""
    return set(db.session.scalars(sa.select(ChapterItem.media_id).where(ChapterItem.chapter_id == chapter.id,
                                                                       ChapterItem.media_id.in_(list(media_ids)))))


def link_media(chapter, media_ids, actor=None, titles=None):
    """Link library files at the end of the chapter, in the order given, titled by their names without
    the extension (or by `titles`: media id -> title, a copy's). Only the course owner's files in the
    library (not the trash) can be linked; any other id answers 404."""
    course = chapter.course
    lock_row(Chapter, chapter.id)
    wanted = list(dict.fromkeys(media_ids))
    files = {media.id: media for media in db.session.scalars(
        owned_by(MediaFile, course.owner_id).where(MediaFile.id.in_(wanted), MediaFile.deleted_at.is_(None))
        .order_by(MediaFile.id).with_for_update())}  # PostgreSQL: a concurrent trash of one of them goes first
    if len(files) != len(wanted):
        abort(404)
    first = next_position(ChapterItem, ChapterItem.chapter_id == chapter.id)
    titles = titles or {}
    items = [ChapterItem(chapter_id=chapter.id, media_id=media_id,
                         title=titles.get(media_id) or default_title(files[media_id].name),
                         position=first + index) for index, media_id in enumerate(wanted)]
    db.session.add_all(items)
    touch(course)
    db.session.flush()
    for item in items:
        record_linked(files[item.media_id], chapter, item, actor or editing_user())
    refresh_usage(wanted)
    return items


def link_uploaded(media, chapter_id, actor):
    """An upload made into a chapter is ready: link it at the end of the chapter, once (a retried
    job does not link it twice). A chapter deleted meanwhile, or a file trashed, is left alone."""
    chapter = db.session.get(Chapter, chapter_id)
    if chapter is None or chapter.course.owner_id != media.owner_id or media.in_trash:
        return None
    already = db.session.scalar(sa.select(ChapterItem.id).where(ChapterItem.chapter_id == chapter.id,
                                                               ChapterItem.media_id == media.id))
    if already:
        return None
    return link_media(chapter, [media.id], actor)[0]


def insert_item(chapter, media, title, position):
    """A new item linking `media` at `position` of the chapter (the later items move down one), or
    at the end when the chapter is shorter now."""
    lock_row(Chapter, chapter.id)
    ordered = db.session.scalars(sa.select(ChapterItem.id).where(ChapterItem.chapter_id == chapter.id)
                                 .order_by(ChapterItem.position)).all()
    item = ChapterItem(chapter_id=chapter.id, media_id=media.id, title=title,
                       position=next_position(ChapterItem, ChapterItem.chapter_id == chapter.id))
    db.session.add(item)
    db.session.flush()
    index = min(max(position, 1) - 1, len(ordered))
    renumber(ChapterItem, ChapterItem.chapter_id == chapter.id, [*ordered[:index], item.id, *ordered[index:]])
    touch(chapter.course)
    return item


def reorder_items(chapter, ordered_ids):
    """Put the chapter's items in the order given: every item of the chapter exactly once, and
    perhaps items of the course's other chapters (dragged here), which move into this chapter."""
    lock_row(Chapter, chapter.id)
    current = set(db.session.scalars(sa.select(ChapterItem.id).where(ChapterItem.chapter_id == chapter.id)))
    if len(set(ordered_ids)) != len(ordered_ids) or not current <= set(ordered_ids):
        raise CourseEditRefused("The chapter changed meanwhile; reload the page and try again.")
    incoming = set(ordered_ids) - current
    sources = set()
    if incoming:
        found = db.session.execute(
            sa.select(ChapterItem.id, ChapterItem.chapter_id).join(Chapter, Chapter.id == ChapterItem.chapter_id)
            .where(ChapterItem.id.in_(incoming), Chapter.course_id == chapter.course_id)).all()
        if len(found) != len(incoming):
            raise CourseEditRefused("The chapter changed meanwhile; reload the page and try again.")
        sources = {source for _id, source in found}
        for source in sources:
            lock_row(Chapter, source)
        # Far out of the way of every position the renumbering below passes through.
        db.session.execute(sa.update(ChapterItem).where(ChapterItem.id.in_(incoming))
                           .values(chapter_id=chapter.id, position=-ChapterItem.id - MOVING_OFFSET))
    renumber(ChapterItem, ChapterItem.chapter_id == chapter.id, ordered_ids)
    for source in sources:
        _close_gaps(ChapterItem, ChapterItem.chapter_id == source)
    touch(chapter.course)
    return sources


def move_item_by(item, step):
    """One place up (-1) or down (+1) within its chapter; at either end it stays."""
    chapter = item.chapter
    ids = [each.id for each in chapter.items]
    index = ids.index(item.id)
    if 0 <= index + step < len(ids):
        ids[index], ids[index + step] = ids[index + step], ids[index]
        reorder_items(chapter, ids)


def move_item_to(item, target):
    """Move the item to the end of another chapter of the same course."""
    source = item.chapter
    if target.course_id != source.course_id:
        abort(404)
    if target.id == source.id:
        return
    lock_row(Chapter, source.id)
    lock_row(Chapter, target.id)
    db.session.execute(sa.update(ChapterItem).where(ChapterItem.id == item.id).values(
        chapter_id=target.id, position=next_position(ChapterItem, ChapterItem.chapter_id == target.id)))
    _close_gaps(ChapterItem, ChapterItem.chapter_id == source.id)
    touch(source.course)


def rename_item(item, title):
    item.title = clean_title(title, "item title")[:255]
    touch(item.chapter.course)


def remove_item(item):
    """Take the item out of its chapter; the file stays in the library."""
    chapter = item.chapter
    lock_row(Chapter, chapter.id)
    media_ids = unlink_history([item.id])
    db.session.delete(item)
    db.session.flush()
    _close_gaps(ChapterItem, ChapterItem.chapter_id == chapter.id)
    refresh_usage(media_ids)
    touch(chapter.course)


def close_item_gaps(chapter_ids):
    """Positions 1..n again in each of these chapters (after items left them)."""
    for chapter_id in sorted(chapter_ids):
        lock_row(Chapter, chapter_id)
        _close_gaps(ChapterItem, ChapterItem.chapter_id == chapter_id)


# ---- the snapshot an Undo puts back (courses/undo.py) ---------------------------------------------

def keep_for_undo(course, kind, chapters=(), items=()):
    """Note what an edit is about to take away, for its Undo (courses/undo.py): whole chapters (a
    chapter or course deleted: their titles, places and items) or some items (removed: each with its
    chapter and place; moved: where each was)."""
    snapshot = {"course": {"title": course.title}}
    if kind == "move":
        snapshot["items"] = [{"id": row.id, "chapter_id": row.chapter_id, "position": row.position} for row in items]
    elif kind == "remove":
        snapshot["items"] = [{"chapter_id": row.chapter_id, "media_id": row.media_id, "title": row.title,
                              "position": row.position} for row in items]
    else:
        contents = editor_items([chapter.id for chapter in chapters])
        snapshot["chapters"] = [{"title": chapter.title, "position": chapter.position,
                                 "items": [{"media_id": row.media_id, "title": row.title, "position": row.position}
                                           for row in contents[chapter.id]]} for chapter in chapters]
    undo = CourseUndo(owner_id=course.owner_id, course_id=course.id, kind=kind, snapshot=snapshot)
    db.session.add(undo)
    db.session.flush()
    return undo


# ---- forced trash and restore: the links a file had ------------------------------------------

def snapshot_and_unlink(media, actor):
    """"Remove from courses and move to trash": note each link (to put back on restore), remove
    them, close the gaps. Returns the places removed."""
    removed = places([media.id]).get(media.id, [])
    if not removed:
        return removed
    now = utcnow()
    db.session.add_all([RemovedLink(media_id=media.id, chapter_id=place.chapter_id, course_title=place.course_title,
                                    chapter_title=place.chapter_title, title=place.title, position=place.position,
                                    removed_at=now) for place in removed])
    db.session.execute(sa.delete(ChapterItem).where(ChapterItem.id.in_([place.item_id for place in removed])))
    chapters = sorted({place.chapter_id for place in removed})
    close_item_gaps(chapters)
    touch_courses({place.course_id for place in removed})
    refresh_usage([media.id])
    record_unlinked([(media, place) for place in removed], actor, " (moved to trash)")
    return removed


def restore_links(media, actor, put_back=True):
    """Put the links a forced trash removed back: each at its old position, or at the end of its
    chapter when the chapter is shorter now. Links whose chapter was deleted cannot come back.
    Returns (restored, lost) counts; with put_back=False the notes are only dropped."""
    links = removed_links([media.id]).get(media.id, [])
    restored = lost = 0
    if put_back:
        for link in links:
            chapter = db.session.get(Chapter, link.chapter_id) if link.chapter_id else None
            if chapter is None or chapter.course.owner_id != media.owner_id:
                lost += 1
                continue
            item = insert_item(chapter, media, link.title, link.position)
            record_linked(media, chapter, item, actor, how="Put back into")
            restored += 1
        refresh_usage([media.id])
    db.session.execute(sa.delete(RemovedLink).where(RemovedLink.media_id == media.id))
    return restored, lost


def move_links(from_ids, keep, actor=None):
    """Every chapter link of the files `from_ids` links `keep` instead, at its position (a merge of
    duplicates). A chapter that links `keep` already, or several of these files, keeps its first link
    only: a merge never leaves a chapter with two links to one file unless it had them before."""
    items = db.session.scalars(sa.select(ChapterItem).where(ChapterItem.media_id.in_(from_ids))
                               .order_by(ChapterItem.chapter_id, ChapterItem.position)).all()
    if not items:
        return 0
    chapter_ids = sorted({item.chapter_id for item in items})
    lock_rows(Chapter, chapter_ids)
    has_keep = set(db.session.scalars(sa.select(ChapterItem.chapter_id).where(
        ChapterItem.chapter_id.in_(chapter_ids), ChapterItem.media_id == keep.id)))
    first_file, dropped = {}, []
    for item in items:
        if item.chapter_id in has_keep or first_file.setdefault(item.chapter_id, item.media_id) != item.media_id:
            dropped.append(item)
        else:
            item.media_id = keep.id
    unlink_history([item.id for item in dropped], " (merged with a duplicate)")
    for item in dropped:
        db.session.delete(item)
    db.session.flush()
    close_item_gaps({item.chapter_id for item in dropped})
    refresh_usage([*from_ids, keep.id])
    touch_courses(set(db.session.scalars(sa.select(Chapter.course_id).where(Chapter.id.in_(chapter_ids)))))
    return len(items) - len(dropped)
