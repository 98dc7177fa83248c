"""A selection's files as one zip, shared by the route that streams a small one and the job that writes
a large one: which files go in (the selection's ready files in the library, scoped like every query),
the names they get inside (display names made safe and unique), and the zip itself, written as it is
read from storage (stored, not deflated: media is compressed already; ZIP64 where a file or the
whole passes 4 GiB)."""
import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from zipstream import ZIP_STORED, ZipStream

from ..extensions import db
from ..jobs.queues import BackgroundUnavailable, enqueue_archive
from ..library.models import MediaFile
from ..progress.models import Operation
from ..progress.publisher import publish_operation
from ..storage import get_storage
from ..timeutil import utcnow
from ..upload.names import sanitize_filename, split_extension

CONTENT_TYPE = "application/zip"
_DOTS = re.compile(r"\.{2,}")


@dataclass(frozen=True)
class Entry:
    """One file of the zip: its name inside, where its bytes are stored, and how many there are."""

    name: str
    key: str
    size: int


def _archived(selection, user):
    """The selection's files that can go into a zip: in the library (never the trash) and stored."""
    ids = selection.media_ids(user).order_by(None).subquery()
    return (sa.select(MediaFile).where(MediaFile.id.in_(sa.select(ids.c.id)), MediaFile.deleted_at.is_(None),
                                       MediaFile.ready_at.is_not(None)))


def archive_size(selection, user):
    """(files, bytes) of what the selection's zip would hold."""
    count, size = db.session.execute(_archived(selection, user).with_only_columns(
        sa.func.count(), sa.func.coalesce(sa.func.sum(MediaFile.size_bytes), 0))).one()
    return count, int(size)


def archive_entries(selection, user):
    """The zip's entries in id order (the first of two same names keeps it as it is)."""
    rows = db.session.execute(_archived(selection, user).with_only_columns(
        MediaFile.name, MediaFile.storage_key, MediaFile.size_bytes).order_by(MediaFile.id)).all()
    names = unique_names(row.name for row in rows)
    return [Entry(name, row.storage_key, row.size_bytes) for name, row in zip(names, rows)]


def safe_name(name):
    """A display name as one entry of a zip: never a path ("/" and "\\" become look-alikes, no "..",
    no leading dot), never empty."""
    return _DOTS.sub(".", sanitize_filename(name, fallback="file")).lstrip(".") or "file"


def unique_names(names):
    """Safe names, each once: a second "notes.pdf" becomes "notes (2).pdf". Compared without case, as
    the file systems a zip is opened on often do."""
    taken, unique = set(), []
    for name in names:
        candidate = safe_name(name)
        stem, extension = split_extension(candidate)
        number = 1
        while candidate.casefold() in taken:
            number += 1
            candidate = f"{stem} ({number}){extension}"
        taken.add(candidate.casefold())
        unique.append(candidate)
    return unique


def streams_at_once(count, size):
    """Whether a zip is small enough to stream in the request (ARCHIVE_STREAM_MAX_FILES and _BYTES)."""
    return count <= current_app.config["ARCHIVE_STREAM_MAX_FILES"] and size <= current_app.config["ARCHIVE_STREAM_MAX_BYTES"]


def zip_stream(entries, sized=True, on_entry=None):
    """The zip of `entries` as a ZipStream: an iterable of bytes that reads each file from storage
    only when its turn comes, a megabyte at a time. `sized`: its length is known before a byte is
    read (len()), for Content-Length. on_entry(number) is called as each file is done."""
    storage = get_storage()
    stream = ZipStream(compress_type=ZIP_STORED, sized=sized)
    for number, entry in enumerate(entries, start=1):
        stream.add(_read(storage, entry, number, on_entry), entry.name, size=entry.size)
    return stream


def _read(storage, entry, number, on_entry):
    yield from storage.read_chunks(entry.key)
    if on_entry:
        on_entry(number)


def archive_filename(count):
    return f"media-{count}-file{'s' if count != 1 else ''}-{utcnow():%Y%m%d-%H%M}.zip"


def start_archive(user, selection, count, size):
    """Record the zip's operation and queue the job that writes it; BackgroundUnavailable (nothing
    kept) when the queue cannot take it."""
    files = "1 file" if count == 1 else f"{count:,} files"
    operation = Operation(owner_id=user.id, kind="archive", title=f"Zip of {files}", stage="queued", status="queued",
                          total=count, job_id=f"archive-{uuid.uuid4().hex}",
                          details={"selection": selection.to_dict(), "filename": archive_filename(count), "bytes": size})
    db.session.add(operation)
    db.session.commit()
    try:
        enqueue_archive(operation)
    except BackgroundUnavailable:
        db.session.delete(operation)
        db.session.commit()
        raise
    publish_operation(operation)
    return operation
