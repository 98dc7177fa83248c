"""Versions of a file's content. A file keeps its id, name, tags, description, category and every
course link when its content is replaced (course items link the file, not its bytes); every content
it has had is a numbered version, the newest being the current one, and an earlier one can be made
current again (as a new version: the list only grows). A replacement is a version without a number
while it is processed; when it is ready it is numbered, under a lock on the file, in the order the
replacements became ready, and its content is copied onto the file. Callers commit.
"""
import sqlalchemy as sa

from ..extensions import db
from ..history import record_event
from ..locks import lock_row
from ..timeutil import utcnow
from .batch import IN_TRASH
from .models import MediaFile, MediaVersion, Rendition
from .service import EditRefused
from .trash import schedule_deletion

# What a version holds and the file shows: copied one way on replace and restore, the other way for a
# file's first version.
CONTENT = ("kind", "mime_type", "size_bytes", "sha256", "storage_key", "thumbnail_key", "duration_seconds", "width",
           "height", "page_count", "video_codec", "audio_codec")
SAME_CONTENT = "This is already the current content."
KIND_NOUNS = {"video": "a video", "image": "an image", "audio": "an audio file", "document": "a document"}


class ReplaceRefused(EditRefused):
    """A replacement that cannot be taken; `status` is the HTTP status to answer with."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


def check_replacement(media, kind, sha256, filename):
    """Refuse, before any byte is kept, a replacement of a file in the trash, of another kind, or with
    the content the file has now."""
    if media.in_trash:
        raise ReplaceRefused(f"“{media.name}” is in the trash: restore it before replacing its content.", 409)
    if kind != media.kind:
        raise ReplaceRefused(kind_mismatch(filename, kind, media.kind), 415)
    if sha256 == media.sha256:
        raise ReplaceRefused(SAME_CONTENT, 409)


def kind_mismatch(filename, kind, wanted):
    noun = KIND_NOUNS[wanted]
    return (f"“{filename}” is {KIND_NOUNS[kind]}; {noun} can only be replaced by another {noun.split(' ', 1)[1]}. "
            "The file is unchanged.")


def pending_version(media, name, kind, mime_type, size_bytes, sha256, storage_key, actor):
    """The replacement's row while it is processed (no number yet); the file itself is unchanged."""
    version = MediaVersion(media_id=media.id, owner_id=media.owner_id, status="processing", original_name=name,
                           kind=kind, mime_type=mime_type, size_bytes=size_bytes, sha256=sha256,
                           storage_key=storage_key, uploaded_by_id=actor.id if actor else None)
    db.session.add(version)
    db.session.flush()
    return version


def replacement_of(operation):
    """The version an upload operation is processing, when it replaces a file's content."""
    version_id = (operation.details or {}).get("version_id") if operation else None
    return db.session.get(MediaVersion, version_id) if version_id else None


def first_version(media, uploaded_by_id=None):
    """Version 1 from the file's own content (a file's first upload, when it is ready)."""
    if db.session.scalar(sa.select(sa.func.count()).where(MediaVersion.media_id == media.id,
                                                          MediaVersion.number.is_not(None))):
        return None
    version = MediaVersion(media_id=media.id, owner_id=media.owner_id, number=1, status="ready",
                           original_name=media.original_name, uploaded_by_id=uploaded_by_id or media.owner_id,
                           created_at=media.created_at, current_since=utcnow(),
                           **{field: getattr(media, field) for field in CONTENT})
    db.session.add(version)
    return version


def make_current(version, actor=None):
    """The processed replacement becomes the file's content, as the next version. Returns its number,
    or None when the file is gone or of another kind now (then nothing changes)."""
    media = db.session.get(MediaFile, version.media_id)
    if media is None:
        return None
    lock_row(MediaFile, media.id)  # two replacements ready at once are numbered one after the other
    db.session.refresh(media)
    first_version(media)  # a file from before versions existed: its content so far is version 1
    db.session.flush()
    version.number = _next_number(media.id)
    version.status, version.failure_reason, version.current_since = "ready", None, utcnow()
    _show(media, version)
    record_event(media, "replaced", f"Replaced with “{version.original_name}” (version {version.number})", actor,
                 {"version": version.number, "sha256": version.sha256, "size_bytes": version.size_bytes})
    return version.number


def restore_version(media, version, actor):
    """An earlier version's content becomes current again, as a new version (nothing is lost)."""
    if media.in_trash:
        raise EditRefused(IN_TRASH)
    lock_row(MediaFile, media.id)
    db.session.refresh(media)
    if version.status != "ready" or version.number is None:
        raise EditRefused("Only a finished version can be restored.")
    if version.sha256 == media.sha256:
        raise EditRefused(f"Version {version.number} is the current content already.")
    restored = MediaVersion(media_id=media.id, owner_id=media.owner_id, number=_next_number(media.id), status="ready",
                            original_name=version.original_name, uploaded_by_id=actor.id if actor else None,
                            restored_from=version.number, current_since=utcnow(),
                            **{field: getattr(version, field) for field in CONTENT})
    db.session.add(restored)
    _show(media, restored)
    record_event(media, "restored_version", f"Restored version {version.number} (as version {restored.number})", actor,
                 {"version": restored.number, "restored_from": version.number, "sha256": version.sha256})
    return restored


def _next_number(media_id):
    return (db.session.scalar(sa.select(sa.func.max(MediaVersion.number)).where(MediaVersion.media_id == media_id))
            or 0) + 1


def _show(media, version):
    """Copy the version's content onto the file. A document's page images belong to the content they
    were made from: they go (through pending_deletions, so shared ones stay) and are made again."""
    for field in CONTENT:
        setattr(media, field, getattr(version, field))
    media.updated_at = utcnow()
    pages = list(db.session.scalars(sa.select(Rendition).where(Rendition.media_id == media.id)))
    if pages:
        db.session.execute(sa.delete(Rendition).where(Rendition.media_id == media.id))
        db.session.flush()
        schedule_deletion([page.storage_key for page in pages])


def listed(media):
    """The file's versions, newest first (one query, whatever their number)."""
    return list(db.session.scalars(sa.select(MediaVersion).where(MediaVersion.media_id == media.id,
                                                                 MediaVersion.number.is_not(None))
                                   .order_by(MediaVersion.number.desc())))
