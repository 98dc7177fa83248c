"""Duplicates: the same content twice in one user's library. Stored bytes are content-addressed, so a
duplicate costs no second copy in storage; what it costs is clutter, and usage split between entries.
An upload whose content the library holds already is marked (`duplicate_of_id`) with two choices:
"Keep both" (drop the mark) and "Use existing" (merge it into the file that was there). A merge moves
every course link and tag of the others onto the file kept and moves the others to the trash; it is
the one rule for "Use existing" and for the Duplicates view's Merge. Callers commit."""
from flask import abort

from ..courses.service import move_links
from ..extensions import db
from ..history import record_event
from ..scoping import owned_by
from .batch import FileBatch
from .models import MediaFile
from .service import add_tags
from .trash import trash_files

MAX_CHECKED = 1000  # files per pre-upload check: more than one drop holds
HEX = frozenset("0123456789abcdef")


def duplicate_query_or_400(body):
    """[(sha256, size)] from the page's check {"files": [{"sha256": …, "size": …}, …]}, or 400."""
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, list) or len(files) > MAX_CHECKED:
        abort(400, f"Send {{\"files\": [{{\"sha256\": …, \"size\": …}}]}}, at most {MAX_CHECKED} files.")
    wanted = []
    for entry in files:
        sha256 = entry.get("sha256") if isinstance(entry, dict) else None
        size = entry.get("size") if isinstance(entry, dict) else None
        if (not isinstance(sha256, str) or len(sha256) != 64 or not set(sha256) <= HEX
                or not isinstance(size, int) or isinstance(size, bool) or not 0 < size < 2**63):
            abort(400, "Each file needs its SHA-256 (64 lower-case hex digits) and its size in bytes.")
        wanted.append((sha256, size))
    return wanted


def existing_copy(owner_id, sha256, besides=None):
    """The oldest file in `owner_id`'s library (not the trash) whose current content has this SHA-256."""
    query = owned_by(MediaFile, owner_id).where(MediaFile.sha256 == sha256, MediaFile.deleted_at.is_(None))
    if besides is not None:
        query = query.where(MediaFile.id != besides)
    return db.session.scalar(query.order_by(MediaFile.created_at, MediaFile.id).limit(1))


def existing_copies(owner_id, hashes):
    """sha256 -> the oldest file in the owner's library with that content, for many hashes in one query."""
    found = {}
    if hashes:
        for media in db.session.scalars(
                owned_by(MediaFile, owner_id).where(MediaFile.sha256.in_(sorted(set(hashes))),
                                                    MediaFile.deleted_at.is_(None))
                .order_by(MediaFile.created_at, MediaFile.id)):
            found.setdefault(media.sha256, media)
    return found


def keep_both(media, actor):
    if media.duplicate_of_id is None:
        return False
    media.duplicate_of_id = None
    record_event(media, "kept_duplicate", "Kept as a separate entry (same content as another file)", actor)
    return True


def merge_into(keep, others, actor):
    """Move the others' course links and tags onto `keep`, record it on every file, and move the others
    to the trash. Safe to run again: a file already merged (in the trash) is left alone."""
    others = [media for media in others if media.id != keep.id and not media.in_trash]
    if not others:
        return []
    move_links([media.id for media in others], keep, actor)
    names = sorted({name for media in others for name in media.tag_names} - set(keep.tag_names))
    if names:
        add_tags(FileBatch.of(keep, actor), names)
    for media in others:
        record_event(media, "merged", f"Merged into “{keep.name}”", actor, {"into": keep.id})
        record_event(keep, "merged", f"Merged “{media.name}” into this file", actor, {"from": media.id})
        media.duplicate_of_id = None
    db.session.flush()
    outcome = trash_files(FileBatch([media.id for media in others], actor.id if actor else None), actor)
    return outcome.changed
