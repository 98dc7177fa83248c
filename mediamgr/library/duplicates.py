"""Duplicates: the same content twice in one user's library. Stored bytes are content-addressed, so a
duplicate costs no second copy in storage; what it costs is clutter, and usage split between entries.
An upload whose content the library holds already is marked (`duplicate_of_id`) with two choices:
"Keep both" (drop the mark) and "Use existing" (merge it into the file that was there). A merge moves
every course link and tag of the others onto the file kept and moves the others to the trash; it is
the one rule for "Use existing" and for the Duplicates view's Merge. Callers commit."""
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort

from ..captions.service import adopt_captions
from ..courses.service import move_links
from ..extensions import db
from ..history import record_event
from ..scoping import owned_by, scoped
from .batch import FileBatch, Outcome
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
    adopt_captions(keep, others, actor)
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


# ---- the Duplicates view and its Merge ---------------------------------------------------------

GROUPS_PER_PAGE = 50


@dataclass
class DuplicateGroup:
    owner_id: int
    sha256: str
    size: int
    files: list  # MediaFile, the one to keep by default first: most used, then oldest

    @property
    def listed_again(self):
        """Bytes listed more than once (storage keeps one copy: the cost is clutter, not bytes)."""
        return self.size * (len(self.files) - 1)


def _groups_query(user):
    count = sa.func.count(MediaFile.id)
    return (scoped(sa.select(MediaFile.owner_id, MediaFile.sha256, count.label("files"),
                             sa.func.max(MediaFile.size_bytes).label("size")), MediaFile.owner_id, user)
            .where(MediaFile.deleted_at.is_(None))
            .group_by(MediaFile.owner_id, MediaFile.sha256).having(count > 1))


def duplicate_summary(user):
    """(groups, files in them, bytes listed more than once) of what `user` may see."""
    groups = _groups_query(user).subquery()
    row = db.session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(groups.c.files), 0),
                                       sa.func.coalesce(sa.func.sum(groups.c.size * (groups.c.files - 1)), 0))).one()
    return tuple(int(value) for value in row)


def duplicate_groups(user, page=1, per_page=GROUPS_PER_PAGE):
    """One page of groups of files with the same content, most bytes listed again first (two queries)."""
    groups = _groups_query(user).subquery()
    rows = db.session.execute(sa.select(groups).order_by((groups.c.size * (groups.c.files - 1)).desc(),
                                                         groups.c.owner_id, groups.c.sha256)
                              .offset((page - 1) * per_page).limit(per_page)).all()
    if not rows:
        return []
    members = defaultdict(list)
    for media in db.session.scalars(
            sa.select(MediaFile).where(sa.tuple_(MediaFile.owner_id, MediaFile.sha256).in_(
                [(row.owner_id, row.sha256) for row in rows]), MediaFile.deleted_at.is_(None))
            .order_by(MediaFile.usage_count.desc(), MediaFile.created_at, MediaFile.id)):
        members[(media.owner_id, media.sha256)].append(media)
    return [DuplicateGroup(row.owner_id, row.sha256, row.size, members[(row.owner_id, row.sha256)]) for row in rows]


def duplicate_groups_of(user, sha256):
    """The groups (one per owner the user may see) of files with this content."""
    groups = _groups_query(user).where(MediaFile.sha256 == sha256).subquery()
    rows = db.session.execute(sa.select(groups)).all()
    if not rows:
        return []
    return [DuplicateGroup(row.owner_id, row.sha256, row.size, list(db.session.scalars(
        owned_by(MediaFile, row.owner_id).where(MediaFile.sha256 == row.sha256, MediaFile.deleted_at.is_(None))
        .order_by(MediaFile.usage_count.desc(), MediaFile.created_at, MediaFile.id)))) for row in rows][:1]


def merge_plan(groups, keep_ids=None):
    """({sha256: id of the file to keep}, [ids of the others]) for these groups; `keep_ids` picks another
    file to keep in a group than the default (most used, then oldest)."""
    keep_ids = keep_ids or {}
    keep, others = {}, []
    for group in groups:
        ids = [media.id for media in group.files]
        chosen = keep_ids.get(group.sha256) if keep_ids.get(group.sha256) in ids else ids[0]
        keep[group.sha256] = chosen
        others += [media_id for media_id in ids if media_id != chosen]
    return keep, others


def merge_duplicates(batch, keep_by_sha, actor):
    """The bulk action "merge": each file of the batch is merged into the file kept for its content."""
    live, failures = batch.in_library()
    outcome = Outcome(failures=failures)
    by_sha = defaultdict(list)
    for row in live:
        by_sha[row.sha256].append(row)
    for sha256, rows in by_sha.items():
        keep = db.session.get(MediaFile, keep_by_sha.get(sha256) or 0)
        if keep is None or keep.in_trash or keep.sha256 != sha256:
            outcome.failures.update({row.id: "The file to keep is no longer in the library with this content."
                                     for row in rows})
            continue
        others = [db.session.get(MediaFile, row.id) for row in rows if row.id != keep.id and row.owner_id == keep.owner_id]
        outcome.changed += merge_into(keep, others, actor)
    return outcome
