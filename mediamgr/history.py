"""A file's history: one line per change with who made it and when, kept (with the name the file
had) after the file is deleted. Every change of a file, from a route, a bulk batch or a job, writes
its line here, in the caller's transaction."""
import sqlalchemy as sa

from .extensions import db
from .library.models import MediaEvent, MediaFile
from .timeutil import utcnow


def record_event(media, action, description, actor=None, details=None):
    """One line for one file (`media`: a MediaFile or a row with id, owner_id and name)."""
    db.session.add(MediaEvent(media_id=media.id, owner_id=media.owner_id, actor_id=actor.id if actor else None,
                              media_name=media.name, action=action, description=description, details=details or {}))


def record_events(media_ids, action, description, actor_id=None, now=None, details=None, operation_id=None):
    """The same line for many files, in one INSERT ... SELECT (the names are read where they are)."""
    if not media_ids:
        return
    details = {**(details or {}), **({"operation_id": operation_id} if operation_id else {})}
    lines = sa.select(MediaFile.id, MediaFile.owner_id, sa.literal(actor_id, sa.Integer), MediaFile.name,
                      sa.literal(action), sa.literal(description), sa.literal(details, sa.JSON),
                      sa.literal(now or utcnow(), sa.DateTime)).where(MediaFile.id.in_(list(media_ids)))
    db.session.execute(sa.insert(MediaEvent).from_select(
        ["media_id", "owner_id", "actor_id", "media_name", "action", "description", "details", "created_at"], lines))


def record_each(rows, action, description, details_of, actor_id=None, now=None, operation_id=None):
    """A line per row whose details differ from row to row (`details_of(row)`), in one INSERT."""
    if not rows:
        return
    extra = {"operation_id": operation_id} if operation_id else {}
    db.session.execute(sa.insert(MediaEvent), [
        {"media_id": row.id, "owner_id": row.owner_id, "actor_id": actor_id, "media_name": row.name,
         "action": action, "description": description, "created_at": now or utcnow(),
         "details": {**details_of(row), **extra}} for row in rows])
