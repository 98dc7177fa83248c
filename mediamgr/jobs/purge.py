"""The end of the recovery period: files in the trash longer than TRASH_RETENTION_DAYS are deleted for
good by the maintenance round. One purge at a time across every worker (a Redis lock); in batches of
BULK_BATCH_SIZE, each one transaction in which the rows go and their stored objects are noted in
pending_deletions (library.trash.delete_files, the rule a person's permanent delete follows); the bytes
are removed after the commits, up to 1,000 keys per request. With storage unreachable the notes wait
for the next round. Each owner whose files went gets an operation record (how many, bytes freed)."""
import logging
import uuid
from collections import defaultdict
from datetime import timedelta

import redis
import sqlalchemy as sa
from flask import current_app

from ..extensions import db, redis_connection
from ..library.batch import FileBatch
from ..library.models import MediaFile, MediaVersion
from ..library.trash import delete_files, flush_pending_deletions, referenced_keys, retention_days
from ..progress.models import Operation
from ..timeutil import utcnow

log = logging.getLogger(__name__)
LOCK_SECONDS = 600  # a purge that died holding the lock frees it after this long


def purge_expired_trash(batch_size=None):
    """Delete the files whose recovery period has ended; returns how many went (0 when another worker
    is purging, or Redis cannot say whether one is)."""
    lock, token = f"{current_app.config['REDIS_NAMESPACE']}:trash-purge", uuid.uuid4().hex
    try:
        if not redis_connection.client.set(lock, token, nx=True, ex=LOCK_SECONDS):
            return 0
    except redis.RedisError:
        return 0
    try:
        return _purge(batch_size or current_app.config["BULK_BATCH_SIZE"])
    finally:
        try:
            if redis_connection.client.get(lock) == token.encode():
                redis_connection.client.delete(lock)
        except redis.RedisError:
            pass  # it expires by itself


def _purge(batch_size):
    days = retention_days()
    now = utcnow()
    cutoff = now - timedelta(days=days)
    reason = f"Deleted permanently: its {days} days in the trash ended"
    purged = defaultdict(lambda: [0, 0])  # owner id -> [files, bytes freed]
    skipped = set()
    while True:
        ids = list(db.session.scalars(
            sa.select(MediaFile.id).where(MediaFile.deleted_at.is_not(None), MediaFile.deleted_at < cutoff,
                                          MediaFile.usage_count == 0, MediaFile.id.not_in(skipped) if skipped else sa.true())
            .order_by(MediaFile.deleted_at, MediaFile.id).limit(batch_size)))
        if not ids:
            break
        batch = FileBatch(ids, now=now)
        sizes = _content_sizes(ids)
        outcome = delete_files(batch, description=reason)
        still_used = referenced_keys(list(sizes))
        for key, (owner_id, size) in sizes.items():
            if key not in still_used:
                purged[owner_id][1] += size
        for media_id in outcome.changed:
            purged[batch.rows[media_id].owner_id][0] += 1
        skipped.update(media_id for media_id in ids if media_id not in outcome.changed)
        db.session.commit()
    if purged:
        _record(purged, days, now)
        db.session.commit()
        flush_pending_deletions()
        log.info("trash purge: %s file(s) past %s days deleted", sum(files for files, _ in purged.values()), days)
    return sum(files for files, _bytes in purged.values())


def _content_sizes(ids):
    """key -> (owner id, size) of the stored bytes of these files and of their versions."""
    sizes = {}
    for key, owner_id, size in db.session.execute(
            sa.select(MediaFile.storage_key, MediaFile.owner_id, MediaFile.size_bytes).where(MediaFile.id.in_(ids))):
        sizes[key] = (owner_id, size)
    for key, owner_id, size in db.session.execute(
            sa.select(MediaVersion.storage_key, MediaVersion.owner_id, MediaVersion.size_bytes)
            .where(MediaVersion.media_id.in_(ids))):
        sizes[key] = (owner_id, size)
    return sizes


def _record(purged, days, now):
    for owner_id, (files, freed) in purged.items():
        db.session.add(Operation(owner_id=owner_id, kind="purge", status="succeeded", stage="done",
                                 title=f"Trash emptied of files older than {days} days", total=files,
                                 processed=files, created_at=now, started_at=now, finished_at=utcnow(),
                                 details={"bytes_freed": freed, "retention_days": days}))
