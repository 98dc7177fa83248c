"""Where library files are used: their course links, the usage counts kept on the files' rows,
the history lines of link changes, and the notes of links a forced trash took away.

Every change of chapter_items (courses.service) calls refresh_usage in its own transaction, so
MediaFile.usage_count always equals the number of items linking the file."""
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..history import record_event
from ..library.models import MediaFile
from ..timeutil import utcnow
from .models import Chapter, ChapterItem, Course, RemovedLink

IN_USE = "It is used in a course; remove it from its chapters first."


@dataclass(frozen=True)
class Place:
    """One use of a file: the item, its chapter and course."""

    item_id: int
    media_id: int
    title: str
    position: int
    chapter_id: int
    chapter_title: str
    course_id: int
    course_title: str

    @property
    def label(self):
        return f"“{self.course_title}” › “{self.chapter_title}”"


def used_ids(media_ids):
    """The ids among `media_ids` that some chapter links."""
    if not media_ids:
        return set()
    return set(db.session.scalars(sa.select(ChapterItem.media_id).where(ChapterItem.media_id.in_(list(media_ids)))
                                  .distinct()))


def places(media_ids=(), item_ids=()):
    """media id -> its places (course, chapter, item), in course, chapter and item order; one query.
    The places of these files, or (item_ids) those of these items."""
    found = {}
    if not (media_ids or item_ids):
        return found
    which = ChapterItem.media_id.in_(list(media_ids)) if media_ids else ChapterItem.id.in_(list(item_ids))
    rows = db.session.execute(
        sa.select(ChapterItem.id, ChapterItem.media_id, ChapterItem.title, ChapterItem.position,
                  Chapter.id, Chapter.title, Course.id, Course.title)
        .join(Chapter, Chapter.id == ChapterItem.chapter_id).join(Course, Course.id == Chapter.course_id)
        .where(which)
        .order_by(Course.title, Course.id, Chapter.position, ChapterItem.position))
    for row in rows:
        found.setdefault(row[1], []).append(Place(*row))
    return found


def where_used_text(file_places, limit=2):
    """“Course” › “Chapter”, … and N more: a refusal's reason in a line."""
    shown = "; ".join(place.label for place in file_places[:limit])
    more = len(file_places) - limit
    return f"Used in {shown}" + (f" and {more} more place{'s' if more > 1 else ''}" if more > 0 else "") + "."


def refresh_usage(media_ids):
    """Set the files' usage counts from their links. On PostgreSQL the rows are locked first (in id
    order), so the count is read after any concurrent link change of the same file has committed."""
    ids = sorted(set(media_ids))
    if not ids:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(MediaFile.id).where(MediaFile.id.in_(ids)).order_by(MediaFile.id).with_for_update())
    count = sa.select(sa.func.count()).where(ChapterItem.media_id == MediaFile.id).scalar_subquery()
    # The moment a file loses its last link it becomes "previously used"; linked again, it is used.
    unlinked_at = sa.case((sa.and_(count == 0, MediaFile.usage_count > 0), utcnow()), (count > 0, None),
                          else_=MediaFile.unlinked_at)
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids)).values(usage_count=count, unlinked_at=unlinked_at)
                       .execution_options(synchronize_session=False))
    for media in db.session.identity_map.values():
        if isinstance(media, MediaFile) and media.id in ids:
            db.session.expire(media, ["usage_count", "unlinked_at"])


def record_unlinked(items_places, actor, why=""):
    """History lines for links that went away (`items_places`: (media, place) pairs)."""
    for media, place in items_places:
        record_event(media, "unlinked", f"Removed from {place.label}{why}", actor,
                     {"course_id": place.course_id, "chapter_id": place.chapter_id, "item_id": place.item_id})


def record_linked(media, chapter, item, actor, how="Added to"):
    record_event(media, "linked", f"{how} “{chapter.course.title}” › “{chapter.title}”", actor,
                 {"course_id": chapter.course_id, "chapter_id": chapter.id, "item_id": item.id})


def removed_links(media_ids):
    """media id -> the links a forced trash removed from it, oldest first."""
    found = {}
    if not media_ids:
        return found
    for link in db.session.scalars(sa.select(RemovedLink).where(RemovedLink.media_id.in_(list(media_ids)))
                                   .order_by(RemovedLink.id)):
        found.setdefault(link.media_id, []).append(link)
    return found
