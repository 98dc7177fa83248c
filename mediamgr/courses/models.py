"""Courses, their chapters and the chapters' items (links to library files).

Positions are unique within their parent (a database constraint). Reordering renumbers in two
steps inside one transaction (first out of the way, to negative numbers, then into place), so
no statement ever leaves two rows at one position, on SQLite or PostgreSQL.
"""
from ..extensions import db
from ..timeutil import utcnow


class Course(db.Model):
    __tablename__ = "courses"

    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    chapters = db.relationship("Chapter", back_populates="course", order_by="Chapter.position",
                               cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (db.Index("ix_courses_owner_updated", "owner_id", "updated_at"),)


class Chapter(db.Model):
    __tablename__ = "chapters"

    id = db.Column(db.Integer, primary_key=True)
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    position = db.Column(db.Integer, nullable=False)

    course = db.relationship("Course", back_populates="chapters")
    items = db.relationship("ChapterItem", back_populates="chapter", order_by="ChapterItem.position",
                            cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (db.UniqueConstraint("course_id", "position", name="uq_chapters_course_position"),)


class ChapterItem(db.Model):
    """One library file linked into a chapter, with a title of its own."""

    __tablename__ = "chapter_items"

    id = db.Column(db.Integer, primary_key=True)
    chapter_id = db.Column(db.Integer, db.ForeignKey("chapters.id", ondelete="CASCADE"), nullable=False)
    # RESTRICT: the database itself refuses to delete a file some chapter still uses.
    media_id = db.Column(db.Integer, db.ForeignKey("media_files.id", ondelete="RESTRICT"), nullable=False)
    title = db.Column(db.String(255), nullable=False)
    position = db.Column(db.Integer, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    chapter = db.relationship("Chapter", back_populates="items")
    media = db.relationship("MediaFile")

    __table_args__ = (
        db.UniqueConstraint("chapter_id", "position", name="uq_chapter_items_chapter_position"),
        db.Index("ix_chapter_items_media", "media_id"),
    )


class RemovedLink(db.Model):
    """A course link that "Remove from courses and move to trash" took away, kept so that restoring
    the file can put it back where it was. The chapter may be deleted meanwhile (then the link
    cannot come back, and the titles say where it was)."""

    __tablename__ = "removed_links"

    id = db.Column(db.Integer, primary_key=True)
    media_id = db.Column(db.Integer, db.ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False)
    chapter_id = db.Column(db.Integer, db.ForeignKey("chapters.id", ondelete="SET NULL"))
    course_title = db.Column(db.String(200), nullable=False)
    chapter_title = db.Column(db.String(200), nullable=False)
    title = db.Column(db.String(255), nullable=False)
    position = db.Column(db.Integer, nullable=False)
    removed_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    chapter = db.relationship("Chapter")

    __table_args__ = (db.Index("ix_removed_links_media", "media_id"),)


class CourseUndo(db.Model):
    """What an edit in the course editor took away (items, a chapter, a whole course) or where a move
    took items from, kept so that the edit's Undo can put it back (courses/undo.py). The maintenance
    round drops them after courses.undo.UNDO_KEEP (24 h). `owner_id` is the course's owner; `course_id` has no
    foreign key: a deleted course's snapshot outlives it."""

    __tablename__ = "course_undos"

    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    course_id = db.Column(db.Integer, nullable=False)
    kind = db.Column(db.String(16), nullable=False)  # remove, move, chapter, course
    snapshot = db.Column(db.JSON, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    # Never an id used before (SQLite would reuse a deleted row's): a toast's Undo left on the page
    # must not undo a later edit that got its snapshot's id.
    __table_args__ = (db.CheckConstraint("kind in ('remove', 'move', 'chapter', 'course')", name="kind"),
                      db.Index("ix_course_undos_created", "created_at"), {"sqlite_autoincrement": True})
