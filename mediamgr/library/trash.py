"""The lifecycle rules of a media file: to the trash, back from it, and deleted for good with its
stored bytes. One home for each: a single file's route and a bulk batch call the same function.
Callers commit.

Stored objects are removed through a durable list (pending_deletions) written in the same
transaction as the rows' delete and emptied after the commit, so a crash in between leaves a note
instead of an orphan, and bytes another row still uses (content addressing) are kept.
"""
import logging
import math
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..courses.service import restore_links, snapshot_and_unlink
from ..courses.usage import IN_USE, places, removed_links, used_ids, where_used_text
from ..extensions import db
from ..history import record_each, record_events
from ..locks import lock_rows
from ..storage import get_storage
from ..storage.base import StorageError
from ..timeutil import utcnow
from .batch import IN_TRASH, NOT_IN_TRASH, Outcome
from .models import MediaFile, MediaVersion, PendingDeletion, Rendition, media_tags

log = logging.getLogger(__name__)
DELETE_BATCH = 1000  # keys per storage request: S3 DeleteObjects takes up to 1,000
ALREADY_TRASHED = "It was already in the trash."
ALREADY_RESTORED = "It is not in the trash (restored already)."


def trash_files(batch, actor=None, unlink=False):
    """Move the files in the library to the trash. A file a course uses is refused with where it is
    used (`in_use`), unless `unlink` ("Remove from courses and move to trash"): then its links are
    noted, for a restore to put back, and removed. The UPDATE itself also says "unused", so a link
    committed meanwhile keeps its file."""
    live, failures = batch.in_library()
    lock_rows(MediaFile, [row.id for row in live])  # no one links them while we look
    outcome = Outcome(failures={media_id: ALREADY_TRASHED if reason == IN_TRASH else reason
                                for media_id, reason in failures.items()})
    used = places([row.id for row in live])
    if unlink:
        for media_id in used:
            outcome.links_removed += len(snapshot_and_unlink(batch.rows[media_id], actor))
    else:
        outcome.in_use = used
        outcome.failures.update({media_id: where_used_text(file_places) for media_id, file_places in used.items()})
    candidates = [row.id for row in live if unlink or row.id not in used]
    if candidates:
        # The UPDATE checks again what it depends on: a file trashed or linked meanwhile is left alone.
        trashed = set(db.session.scalars(
            sa.update(MediaFile).where(MediaFile.id.in_(candidates), MediaFile.usage_count == 0,
                                       MediaFile.deleted_at.is_(None))
            .values(deleted_at=batch.now, status="deleted", updated_at=batch.now).returning(MediaFile.id)
            .execution_options(synchronize_session=False)))
        outcome.failures.update({media_id: IN_USE for media_id in candidates if media_id not in trashed})
        outcome.changed = sorted(trashed)
        record_events(outcome.changed, "trashed", "Moved to trash", **batch.history())
    batch.expire_loaded()
    return outcome


def restore_files(batch, actor=None, links=False):
    """Back to the library from the trash; with `links` ("Restore course links too") the links that
    moving them to the trash removed go back into their chapters (see courses.service.restore_links)."""
    trashed, failures = batch.in_trash()
    outcome = Outcome(failures={media_id: ALREADY_RESTORED if reason == NOT_IN_TRASH else reason
                                for media_id, reason in failures.items()})
    if trashed:
        lock_rows(MediaFile, [row.id for row in trashed])  # two Undos at once restore (and relink) once
        status = sa.case((MediaFile.ready_at.is_not(None), "ready"),
                         (MediaFile.failure_reason.is_not(None), "failed"), else_="processing")
        outcome.changed = sorted(db.session.scalars(
            sa.update(MediaFile).where(MediaFile.id.in_([row.id for row in trashed]), MediaFile.deleted_at.is_not(None))
            .values(deleted_at=None, status=status, updated_at=batch.now).returning(MediaFile.id)
            .execution_options(synchronize_session=False)))
        outcome.failures.update({row.id: ALREADY_RESTORED for row in trashed if row.id not in outcome.changed})
        record_events(outcome.changed, "restored", "Restored from trash", **batch.history())
        for media_id in removed_links(outcome.changed):
            restored, lost = restore_links(batch.rows[media_id], actor, put_back=links)
            outcome.links_restored += restored
            outcome.links_lost += lost
    batch.expire_loaded()
    return outcome


def retention_days():
    """How long a file stays in the trash before it is deleted for good (TRASH_RETENTION_DAYS)."""
    return current_app.config["TRASH_RETENTION_DAYS"]


def days_left(deleted_at, now=None):
    """The days, counting the one under way, a trashed file has before the purge takes it: 1 on its
    last day ("Deleted today"), 0 once its time is up and the next maintenance round will take it."""
    remaining = deleted_at + timedelta(days=retention_days()) - (now or utcnow())
    return max(0, math.ceil(remaining / timedelta(days=1)))


def delete_files(batch, description="Deleted permanently"):
    """Delete trashed files for good; their stored objects are noted for removal after the commit
    (flush_pending_deletions). A file a chapter links is kept (the schema refuses it too), and a file
    already gone counts as done: deleting it was the point. The purge at the end of the recovery
    period (jobs.purge) says so in `description`."""
    trashed, failures = batch.in_trash()
    failures = {media_id: reason for media_id, reason in failures.items() if media_id in batch.rows}
    used = used_ids([row.id for row in trashed])
    failures.update({media_id: IN_USE for media_id in used})
    doomed = [row for row in trashed if row.id not in used]
    if doomed:
        ids = [row.id for row in doomed]
        renditions = list(db.session.scalars(sa.select(Rendition.storage_key).where(Rendition.media_id.in_(ids))))
        versions = [key for row in db.session.execute(sa.select(MediaVersion.storage_key, MediaVersion.thumbnail_key)
                                                       .where(MediaVersion.media_id.in_(ids))) for key in row if key]
        record_each(doomed, "deleted", description,
                    lambda row: {"size_bytes": row.size_bytes, "sha256": row.sha256}, **batch.history())
        db.session.execute(sa.delete(media_tags).where(media_tags.c.media_id.in_(ids)))
        db.session.execute(sa.update(MediaFile).where(MediaFile.duplicate_of_id.in_(ids)).values(duplicate_of_id=None)
                           .execution_options(synchronize_session=False))
        db.session.execute(sa.delete(MediaVersion).where(MediaVersion.media_id.in_(ids)))
        db.session.execute(sa.delete(MediaFile).where(MediaFile.id.in_(ids)).execution_options(synchronize_session=False))
        db.session.execute(sa.delete(Rendition).where(Rendition.media_id.in_(ids)))
        schedule_deletion([key for row in doomed for key in (row.storage_key, row.thumbnail_key) if key] + renditions
                          + versions)
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, MediaFile) and loaded.id in {row.id for row in doomed}:
            db.session.expunge(loaded)
    return Outcome(changed=[row.id for row in doomed], failures=failures)


def referenced_keys(keys):
    """Of `keys`, those some media row or version stores its bytes or thumbnail under, or a rendition."""
    if not keys:
        return set()
    used = set(db.session.scalars(db.select(MediaFile.storage_key).where(MediaFile.storage_key.in_(keys))))
    used |= set(db.session.scalars(db.select(MediaFile.thumbnail_key).where(MediaFile.thumbnail_key.in_(keys))))
    used |= set(db.session.scalars(db.select(Rendition.storage_key).where(Rendition.storage_key.in_(keys))))
    used |= set(db.session.scalars(db.select(MediaVersion.storage_key).where(MediaVersion.storage_key.in_(keys))))
    used |= set(db.session.scalars(db.select(MediaVersion.thumbnail_key).where(MediaVersion.thumbnail_key.in_(keys))))
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
