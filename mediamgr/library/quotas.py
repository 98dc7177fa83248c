"""Storage quotas: the one place that says how many bytes a user keeps stored and whether new ones
fit. Stored bytes are what the storage provider bills: every distinct object of the user's, current
content, versions and the trash alike (identical content, stored once, counts once). An upload or a
replacement that would go past the user's quota is refused before any byte is kept."""
import humanize
import sqlalchemy as sa
from flask import current_app, url_for

from ..auth.models import User
from ..extensions import db
from ..parsing import parse_size
from ..scoping import owned_by
from . import stats
from .models import MediaFile

UNLIMITED = "unlimited"


class OverQuota(ValueError):
    """An upload that does not fit the user's quota; the message says how much is free."""


def human(size):
    return humanize.naturalsize(size, format="%.1f")


def stored_bytes(owner_id):
    """The distinct bytes stored for `owner_id` (from the storage summary, library.stats)."""
    return stats.stored_bytes(owner_id)


def trashed_bytes(owner_id):
    """Bytes of the user's files in the trash (they count until they are deleted for good)."""
    return int(db.session.scalar(owned_by(MediaFile, owner_id).with_only_columns(
        sa.func.coalesce(sa.func.sum(MediaFile.size_bytes), 0)).where(MediaFile.deleted_at.is_not(None))))


def ensure_room(owner_id, incoming):
    """Refuse (OverQuota) `incoming` more bytes for `owner_id` when they would not fit the quota."""
    quota = db.session.scalar(sa.select(User.quota_bytes).where(User.id == owner_id))
    if quota is None:
        return
    used = stored_bytes(owner_id)
    if used + incoming <= quota:
        return
    free = max(0, quota - used)
    message = (f"This file ({human(incoming)}) does not fit your storage: {human(free)} of {human(quota)} is free.")
    in_trash = trashed_bytes(owner_id)
    if in_trash:
        message += (f" Files in the trash count until they are deleted: emptying the trash "
                    f"({url_for('library.trash_index', _external=True)}) frees up to {human(in_trash)}.")
    raise OverQuota(message)


def storage_use(user):
    """What the library's usage bar shows: {"used", "quota" (None: unlimited), "percent"}."""
    used = stored_bytes(user.id)
    quota = user.quota_bytes
    return {"used": used, "quota": quota, "percent": min(100, round(100 * used / quota)) if quota else None}


def parse_quota(raw):
    """`10GB`, `1.5 TB`, `500MB` (decimal units, as the provider bills and as sizes are shown), `2GiB`, a
    number of bytes, or `unlimited` -> bytes or None; ValueError otherwise."""
    text = (raw or "").strip()
    if text.lower() == UNLIMITED:
        return None
    size = parse_size(text)
    if not size:
        raise ValueError(f"Give a size such as 10GB or 500MB, or “unlimited” (got {raw!r}).")
    return size


def default_quota():
    return current_app.config.get("DEFAULT_QUOTA_BYTES")
