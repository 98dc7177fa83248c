"""What can happen to a media file, each change recorded in its history. Shared by routes and jobs;
callers commit."""
import logging
import re
import unicodedata

from ..extensions import db
from ..storage import get_storage
from ..storage.base import StorageError
from ..timeutil import utcnow
from ..upload.names import sanitize_filename
from .models import MediaEvent, MediaFile, PendingDeletion, Tag

log = logging.getLogger(__name__)

MAX_TAG_LENGTH = 40
MAX_TAGS_PER_FILE = 50
MAX_CATEGORY_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 5000
DELETE_BATCH = 1000  # keys per storage request: S3 DeleteObjects takes up to 1,000


class EditRefused(ValueError):
    """An edit that cannot be made; the message is for the user."""


def record_event(media, action, description, actor=None, details=None):
    db.session.add(MediaEvent(media_id=media.id, owner_id=media.owner_id, actor_id=actor.id if actor else None,
                              media_name=media.name, action=action, description=description, details=details or {}))


def normalize_tag(raw):
    """'  Week  1 ' -> 'week 1'; control characters dropped, length capped."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = re.sub(r"\s+", " ", text).strip().lower().strip(",")
    return text[:MAX_TAG_LENGTH].strip()


def parse_tags(raw):
    """Comma-separated user input -> unique normalised tag names, in order."""
    names = [normalize_tag(part) for part in (raw or "").split(",")]
    return list(dict.fromkeys(name for name in names if name))


def rename_media(media, new_stem, actor):
    """Rename, keeping the extension; the name is never empty."""
    extension = media.extension
    stem = sanitize_filename(new_stem, fallback="")
    if stem.lower().endswith(extension.lower()) and extension:
        stem = stem[: -len(extension)].rstrip()
    if not stem:
        raise EditRefused("The name can't be empty.")
    new_name = sanitize_filename(stem + extension)
    if new_name == media.name:
        return False
    old_name = media.name
    media.name = new_name
    media.refresh_search_text()
    record_event(media, "renamed", f"Renamed from “{old_name}” to “{new_name}”", actor, {"old": old_name, "new": new_name})
    return True


def update_details(media, description, category, actor):
    description = (description or "").replace("\r\n", "\n").strip()
    category = re.sub(r"\s+", " ", category or "").strip()
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise EditRefused(f"The description can be at most {MAX_DESCRIPTION_LENGTH} characters.")
    if len(category) > MAX_CATEGORY_LENGTH:
        raise EditRefused(f"The category can be at most {MAX_CATEGORY_LENGTH} characters.")
    changed = {field: value for field, value in (("description", description), ("category", category))
               if getattr(media, field) != value}
    if not changed:
        return False
    for field, value in changed.items():
        setattr(media, field, value)
    record_event(media, "updated", "Changed " + " and ".join(changed), actor, changed)
    return True


def _tags_named(owner_id, names):
    existing = {tag.name: tag for tag in db.session.scalars(
        db.select(Tag).where(Tag.owner_id == owner_id, Tag.name.in_(names)))}
    for name in names:
        if name not in existing:
            existing[name] = Tag(owner_id=owner_id, name=name)
            db.session.add(existing[name])
    return [existing[name] for name in names]


def add_tags(media, names, actor):
    new = [name for name in names if name not in media.tag_names]
    if not new:
        return False
    if len(media.tags) + len(new) > MAX_TAGS_PER_FILE:
        raise EditRefused(f"A file can have at most {MAX_TAGS_PER_FILE} tags.")
    media.tags.extend(_tags_named(media.owner_id, new))
    media.refresh_search_text()
    record_event(media, "tagged", "Added tag " + ", ".join(f"“{name}”" for name in new), actor, {"added": new})
    return True


def remove_tag(media, name, actor):
    kept = [tag for tag in media.tags if tag.name != name]
    if len(kept) == len(media.tags):
        return False
    media.tags = kept
    media.refresh_search_text()
    record_event(media, "tagged", f"Removed tag “{name}”", actor, {"removed": [name]})
    return True


def trash_media(media, actor):
    if media.in_trash:
        return False
    media.deleted_at = utcnow()
    media.status = "deleted"
    record_event(media, "trashed", "Moved to trash", actor)
    return True


def restore_media(media, actor):
    if not media.in_trash:
        return False
    media.deleted_at = None
    media.status = "ready" if media.ready_at else ("failed" if media.failure_reason else "processing")
    record_event(media, "restored", "Restored from trash", actor)
    return True


def delete_permanently(media, actor):
    """Delete the row; the stored objects no other row uses are noted for removal after the commit
    (flush_pending_deletions)."""
    if not media.in_trash:
        raise EditRefused("Only files in the trash can be deleted permanently.")
    from ..courses.usage import IN_USE, used_ids

    if used_ids([media.id]):
        raise EditRefused(IN_USE)
    record_event(media, "deleted", "Deleted permanently", actor,
                 {"size_bytes": media.size_bytes, "sha256": media.sha256})
    keys = [key for key in (media.storage_key, media.thumbnail_key) if key]
    db.session.delete(media)
    db.session.flush()
    schedule_deletion(keys)


def referenced_keys(keys):
    """Of `keys`, those some media row stores its bytes or thumbnail under."""
    if not keys:
        return set()
    used = set(db.session.scalars(db.select(MediaFile.storage_key).where(MediaFile.storage_key.in_(keys))))
    used |= set(db.session.scalars(db.select(MediaFile.thumbnail_key).where(MediaFile.thumbnail_key.in_(keys))))
    return used


def schedule_deletion(keys):
    """Note stored objects for removal, in the caller's transaction (only those no row still uses)."""
    used = referenced_keys(keys)
    unused = sorted({key for key in keys if key not in used})
    if unused:
        db.session.execute(db.insert(PendingDeletion), [{"storage_key": key} for key in unused])


def flush_pending_deletions(full_batches_only=False, batch_size=DELETE_BATCH):
    """Remove the noted objects from storage, up to 1,000 per request; returns the number of storage
    requests. A key some row uses again by now (the same bytes uploaded anew) is kept. When storage
    fails, the notes stay for the next flush (the maintenance job retries), and this returns.
    `full_batches_only` leaves a last partial batch for later (a bulk delete still adding notes)."""
    requests = 0
    while True:
        notes = db.session.execute(db.select(PendingDeletion.id, PendingDeletion.storage_key)
                                   .order_by(PendingDeletion.id).limit(batch_size)).all()
        if not notes or (full_batches_only and len(notes) < batch_size):
            db.session.rollback()
            return requests
        keys = sorted({key for _id, key in notes})
        used = referenced_keys(keys)
        try:
            requests += get_storage().delete_many([key for key in keys if key not in used])
        except (StorageError, OSError):
            db.session.rollback()
            log.warning("stored objects not removed yet (storage unavailable); will retry", exc_info=True)
            return requests
        db.session.execute(db.delete(PendingDeletion).where(PendingDeletion.id.in_([id_ for id_, _key in notes])))
        db.session.commit()
        if len(notes) < batch_size:
            return requests
