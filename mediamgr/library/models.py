"""Media files, their tags and their history.

Stored bytes are content-addressed per owner (MediaFile.storage_key is derived from the
SHA-256), so a later duplicate or version can share one stored object; bytes are removed only
when no row refers to the key any more.
"""
from ..extensions import db
from ..timeutil import utcnow

KINDS = ("video", "image", "audio", "document")
STATUSES = ("processing", "ready", "failed", "deleted")
# Listing indexes cover only the library (not the trash): every library query says deleted_at IS NULL.
IN_LIBRARY = "deleted_at IS NULL"
USED_IN_LIBRARY = "deleted_at IS NULL AND usage_count > 0"
NEEDS_ATTENTION_IN_LIBRARY = "deleted_at IS NULL AND needs_attention"
MAX_ALT_TEXT_LENGTH = 250  # a sentence or two: a longer account of an image belongs in its description
DURATION_KEY_SQL = "coalesce(duration_seconds, 0)"  # what the duration sort orders by (queries.SORTS)

media_tags = db.Table(
    "media_tags",
    db.Column("media_id", db.Integer, db.ForeignKey("media_files.id", ondelete="CASCADE"), primary_key=True),
    db.Column("tag_id", db.Integer, db.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    db.Index("ix_media_tags_tag_media", "tag_id", "media_id"),
)


def search_text_of(name, tag_names, category="", description=""):
    """What search matches a file by: its name, tags, category and description, lower-cased and on one
    line (the one definition, for one file here, for a batch in library.service.refresh_search_text
    and for an import). Search words never hold a space, so a word cannot match across two parts."""
    return " ".join([name.lower(), *tag_names, *(" ".join(part.lower().split()) for part in (category, description) if part)])


def _library_index(name, *columns):
    where = db.text(IN_LIBRARY)
    return db.Index(name, *columns, sqlite_where=where, postgresql_where=where)


class MediaFile(db.Model):
    __tablename__ = "media_files"

    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    name = db.Column(db.String(255), nullable=False)
    # Lower-cased name for sorting; search_text is what search matches (search_text_of).
    name_key = db.Column(db.String(255), nullable=False)
    search_text = db.Column(db.Text, nullable=False, default="")
    original_name = db.Column(db.String(255), nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    mime_type = db.Column(db.String(127), nullable=False)
    size_bytes = db.Column(db.BigInteger, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    storage_key = db.Column(db.String(512), nullable=False)
    thumbnail_key = db.Column(db.String(512))
    duration_seconds = db.Column(db.Float)
    width = db.Column(db.Integer)
    height = db.Column(db.Integer)
    page_count = db.Column(db.Integer)  # documents that have pages (PDF)
    video_codec = db.Column(db.String(32))
    audio_codec = db.Column(db.String(32))
    category = db.Column(db.String(64), nullable=False, default="")
    description = db.Column(db.Text, nullable=False, default="")
    # What a screen reader says instead of an image (library.alt_text.clean_alt_text); "" until written.
    alt_text = db.Column(db.String(MAX_ALT_TEXT_LENGTH), nullable=False, default="", server_default="")
    status = db.Column(db.String(16), nullable=False, default="processing")
    failure_reason = db.Column(db.Text)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    ready_at = db.Column(db.DateTime)
    deleted_at = db.Column(db.DateTime)
    # How many chapter items link this file: kept in the transaction of every link change
    # (courses.usage.refresh_usage), so the grid shows it, filters and sorts by it without a join.
    usage_count = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # When the file's last link went away (NULL: never linked, or linked now): "previously used"
    # files have one, "never used" ones do not (courses.usage.refresh_usage keeps it).
    unlinked_at = db.Column(db.DateTime)
    # An upload whose content the library held already: the file it repeats, until the user chooses
    # "Keep both" or "Use existing" (library.duplicates).
    duplicate_of_id = db.Column(db.Integer, db.ForeignKey("media_files.id", ondelete="SET NULL"))
    # The quality report's score (0–100) and whether it found a problem (video.analysis keeps both, so
    # the card's badge and the "Needs attention" filter read the row itself); NULL: no report yet.
    quality_score = db.Column(db.Integer)
    needs_attention = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())

    owner = db.relationship("User")
    duplicate_of = db.relationship("MediaFile", remote_side=[id], foreign_keys=[duplicate_of_id])
    tags = db.relationship("Tag", secondary=media_tags, lazy="selectin", order_by="Tag.name")

    __table_args__ = (
        db.CheckConstraint("kind in ('video', 'image', 'audio', 'document')", name="kind"),
        db.CheckConstraint("status in ('processing', 'ready', 'failed', 'deleted')", name="status"),
        _library_index("ix_media_owner_created", "owner_id", "created_at", "id"),
        _library_index("ix_media_owner_name", "owner_id", "name_key", "id"),
        _library_index("ix_media_owner_size", "owner_id", "size_bytes", "id"),
        _library_index("ix_media_owner_kind_created", "owner_id", "kind", "created_at", "id"),
        _library_index("ix_media_owner_kind_name", "owner_id", "kind", "name_key", "id"),
        _library_index("ix_media_owner_kind_size", "owner_id", "kind", "size_bytes", "id"),
        _library_index("ix_media_owner_status", "owner_id", "status"),
        _library_index("ix_media_owner_usage", "owner_id", "usage_count", "id"),
        # "Used" files only (few of the library): the Used filter reads them newest first.
        db.Index("ix_media_owner_used_created", "owner_id", "created_at", "id",
                 sqlite_where=db.text(USED_IN_LIBRARY), postgresql_where=db.text(USED_IN_LIBRARY)),
        # "Needs attention" files only (few of the library), newest first.
        db.Index("ix_media_owner_attention_created", "owner_id", "created_at", "id",
                 sqlite_where=db.text(NEEDS_ATTENTION_IN_LIBRARY), postgresql_where=db.text(NEEDS_ATTENTION_IN_LIBRARY)),
        # Search scans (owner, newest first) reading the search text from the index itself; SQLite
        # only: a PostgreSQL btree entry holds at most 2,704 bytes, less than a long description.
        _library_index("ix_media_owner_search", "owner_id", "created_at", "id", "search_text").ddl_if(dialect="sqlite"),
        _library_index("ix_media_owner_category", "owner_id", "category", "created_at", "id"),
        # The list view's column sorts (keyset pages on (key, id)); a missing duration sorts as 0.
        _library_index("ix_media_owner_kind_id", "owner_id", "kind", "id"),
        _library_index("ix_media_owner_duration", "owner_id", db.text(DURATION_KEY_SQL), "id"),
        # Only trashed rows: an index over every row's deleted_at made SQLite's planner, once
        # ANALYZE had run, take "deleted_at IS NULL" for a rare value and sort the whole library.
        db.Index("ix_media_owner_trash", "owner_id", "deleted_at", "id",
                 sqlite_where=db.text("deleted_at IS NOT NULL"), postgresql_where=db.text("deleted_at IS NOT NULL")),
        # Every owner's trash by age: the purge at the end of the recovery period (jobs.purge).
        db.Index("ix_media_trashed_at", "deleted_at", "id",
                 sqlite_where=db.text("deleted_at IS NOT NULL"), postgresql_where=db.text("deleted_at IS NOT NULL")),
        db.Index("ix_media_owner_sha256", "owner_id", "sha256"),
        db.Index("ix_media_duplicate_of", "duplicate_of_id", sqlite_where=db.text("duplicate_of_id IS NOT NULL"),
                 postgresql_where=db.text("duplicate_of_id IS NOT NULL")),
        db.Index("ix_media_storage_key", "storage_key"),
        # Every user's largest files (the admin's analytics).
        _library_index("ix_media_size", "size_bytes", "id"),
    )

    @property
    def in_trash(self):
        return self.deleted_at is not None

    @property
    def extension(self):
        stem, dot, ext = self.name.rpartition(".")
        return f".{ext}" if dot and stem else ""

    @property
    def tag_names(self):
        return [tag.name for tag in self.tags]

    def refresh_search_text(self):
        self.name_key = self.name.lower()
        self.search_text = search_text_of(self.name, self.tag_names, self.category or "", self.description or "")


class Tag(db.Model):
    __tablename__ = "tags"

    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    name = db.Column(db.String(64), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (db.UniqueConstraint("owner_id", "name", name="uq_tags_owner_name"),)


class MediaEvent(db.Model):
    """One line of a file's history; kept (with the name it had) after the file is deleted."""

    __tablename__ = "media_history"

    id = db.Column(db.Integer, primary_key=True)
    media_id = db.Column(db.Integer, db.ForeignKey("media_files.id", ondelete="SET NULL"))
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    media_name = db.Column(db.String(255), nullable=False)
    action = db.Column(db.String(32), nullable=False)
    description = db.Column(db.Text, nullable=False)
    details = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    actor = db.relationship("User", foreign_keys=[actor_id], lazy="joined")

    __table_args__ = (
        db.Index("ix_media_history_media_created", "media_id", "created_at"),
        db.Index("ix_media_history_owner_created", "owner_id", "created_at"),
    )


class PendingDeletion(db.Model):
    """A stored object to remove once the rows that used it are committed as gone: written in the
    same transaction as the delete, so a crash between the commit and the storage request leaves
    a note here instead of an orphan."""

    __tablename__ = "pending_deletions"

    id = db.Column(db.Integer, primary_key=True)
    storage_key = db.Column(db.String(512), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class MediaVersion(db.Model):
    """One content a file has had (library.versions): the newest numbered version is the file's
    current content. A replacement still being processed has no number yet; it is numbered when it
    becomes current, so versions are numbered in the order they did."""

    __tablename__ = "media_versions"

    id = db.Column(db.Integer, primary_key=True)
    media_id = db.Column(db.Integer, db.ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    number = db.Column(db.Integer)
    status = db.Column(db.String(16), nullable=False, default="processing")
    original_name = db.Column(db.String(255), nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    mime_type = db.Column(db.String(127), nullable=False)
    size_bytes = db.Column(db.BigInteger, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    storage_key = db.Column(db.String(512), nullable=False)
    thumbnail_key = db.Column(db.String(512))
    duration_seconds = db.Column(db.Float)
    width = db.Column(db.Integer)
    height = db.Column(db.Integer)
    page_count = db.Column(db.Integer)
    video_codec = db.Column(db.String(32))
    audio_codec = db.Column(db.String(32))
    uploaded_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    restored_from = db.Column(db.Integer)  # the number of the version this one restored
    failure_reason = db.Column(db.Text)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    current_since = db.Column(db.DateTime)

    uploaded_by = db.relationship("User", foreign_keys=[uploaded_by_id], lazy="joined")

    __table_args__ = (
        db.CheckConstraint("status in ('processing', 'ready', 'failed')", name="status"),
        db.UniqueConstraint("media_id", "number", name="uq_media_versions_media_number"),
        db.Index("ix_media_versions_storage_key", "storage_key"),
        db.Index("ix_media_versions_thumbnail_key", "thumbnail_key"),
        db.Index("ix_media_versions_owner", "owner_id", "media_id"),
    )


class Rendition(db.Model):
    """An image made from a file for showing it: a PDF's pages (spec "page-1", …). Unique per
    (file, spec); stored content-addressed like the file, so identical files share them, and removed
    through pending_deletions with the file."""

    __tablename__ = "media_renditions"

    id = db.Column(db.Integer, primary_key=True)
    media_id = db.Column(db.Integer, db.ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False)
    spec = db.Column(db.String(32), nullable=False)
    storage_key = db.Column(db.String(512), nullable=False)
    width = db.Column(db.Integer, nullable=False)
    height = db.Column(db.Integer, nullable=False)
    size_bytes = db.Column(db.BigInteger, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    __table_args__ = (db.UniqueConstraint("media_id", "spec", name="uq_media_renditions_media_spec"),
                      db.Index("ix_media_renditions_storage_key", "storage_key"))
