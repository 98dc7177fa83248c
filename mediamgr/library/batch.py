"""What every rule of the library works on and answers with: a batch of files (one file from a
route, hundreds from a bulk job's batch) and what happened to each of them."""
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..timeutil import utcnow
from .models import MediaFile

GONE = "This file no longer exists."
IN_TRASH = "It is in the trash; restore it to edit it."
NOT_IN_TRASH = "It is not in the trash, so it was kept."


@dataclass
class FileBatch:
    """Files by id, with their rows as they are now (missing ones are gone), who acts and when.
    `operation_id` ties the history lines to the bulk operation that made them."""

    media_ids: list
    actor_id: int | None = None
    now: datetime = field(default_factory=utcnow)
    operation_id: int | None = None

    def __post_init__(self):
        db.session.flush()  # a route's own pending change of these files goes first: the rules expire them
        self.rows = {row.id: row for row in db.session.execute(
            sa.select(MediaFile.id, MediaFile.owner_id, MediaFile.name, MediaFile.deleted_at, MediaFile.category,
                      MediaFile.ready_at, MediaFile.failure_reason, MediaFile.storage_key, MediaFile.thumbnail_key,
                      MediaFile.size_bytes, MediaFile.sha256)
            .where(MediaFile.id.in_(self.media_ids)))}

    @classmethod
    def of(cls, media, actor):
        """A single file's change, made by `actor` (a route's signed-in user)."""
        return cls([media.id], actor.id if actor else None)

    def gone(self):
        return {media_id: GONE for media_id in self.media_ids if media_id not in self.rows}

    def in_library(self):
        """(rows in the library, failures for the files gone or in the trash): for edits that
        apply only to files in the library."""
        failures = self.gone()
        failures.update({row.id: IN_TRASH for row in self.rows.values() if row.deleted_at is not None})
        return [row for row in self.rows.values() if row.deleted_at is None], failures

    def in_trash(self):
        """(rows in the trash, failures for the files gone or in the library)."""
        failures = self.gone()
        failures.update({row.id: NOT_IN_TRASH for row in self.rows.values() if row.deleted_at is None})
        return [row for row in self.rows.values() if row.deleted_at is not None], failures

    def history(self):
        """The keyword arguments every history line of this batch carries."""
        return {"actor_id": self.actor_id, "now": self.now, "operation_id": self.operation_id}

    def expire_loaded(self):
        """The rows changed in the database: loaded MediaFile objects of this batch read them again."""
        ids = set(self.media_ids)
        for loaded in list(db.session.identity_map.values()):
            if isinstance(loaded, MediaFile) and loaded.id in ids:
                db.session.expire(loaded)


@dataclass
class Outcome:
    """What a rule did: the files it changed, and why it left each of the others alone."""

    changed: list = field(default_factory=list)
    failures: dict = field(default_factory=dict)  # media id -> the reason, for the user
    in_use: dict = field(default_factory=dict)  # media id -> its places (a trash refused them)
    links_removed: int = 0  # course links a forced trash took away (noted for restore)
    links_restored: int = 0
    links_lost: int = 0  # noted links that could not come back (their chapter is gone)

    def failure_for(self, media_id):
        return self.failures.get(media_id)
