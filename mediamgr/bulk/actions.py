"""The bulk actions, each applied to one batch of files with a few set-based statements.

Every step is idempotent, so a batch that runs again after a crash changes nothing twice: a file
already in the trash is not trashed again, a tag a file already has is not added again. Each file
that changes gets its history line; a file the action cannot apply to is returned as a failure
with the reason, and the others go on.
"""
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..auth.models import User
from ..courses.service import restore_links
from ..courses.usage import IN_USE, places, removed_links, used_ids, where_used_text
from ..extensions import db
from ..library.models import MediaEvent, MediaFile, Tag, media_tags
from ..library.service import MAX_CATEGORY_LENGTH, MAX_TAGS_PER_FILE, parse_tags, schedule_deletion

GONE = "This file no longer exists."
IN_TRASH = "It is in the trash."


@dataclass(frozen=True)
class Action:
    name: str
    scope: str  # "library" or "trash": where the action is offered
    verb: str  # "Move {count} to the trash" style title, filled in by title()
    apply: Callable


@dataclass
class Batch:
    """One batch of an operation: its files' rows (missing ones are gone), the actor and the clock."""

    operation_id: int
    actor_id: int
    now: object
    media_ids: list
    params: dict

    def __post_init__(self):
        self.rows = {row.id: row for row in db.session.execute(
            sa.select(MediaFile.id, MediaFile.owner_id, MediaFile.name, MediaFile.deleted_at, MediaFile.category,
                      MediaFile.ready_at, MediaFile.failure_reason, MediaFile.storage_key, MediaFile.thumbnail_key,
                      MediaFile.size_bytes, MediaFile.sha256)
            .where(MediaFile.id.in_(self.media_ids)))}

    def record(self, rows, action, description, details=None):
        """History lines for `rows`, one INSERT ... SELECT when the details are the same for all,
        else one row each (`details` a function of the row)."""
        if not rows:
            return
        if callable(details):
            db.session.execute(sa.insert(MediaEvent), [
                {"media_id": row.id, "owner_id": row.owner_id, "actor_id": self.actor_id, "media_name": row.name,
                 "action": action, "description": description, "created_at": self.now,
                 "details": {**details(row), "operation_id": self.operation_id}} for row in rows])
            return
        lines = sa.select(MediaFile.id, MediaFile.owner_id, sa.literal(self.actor_id, sa.Integer), MediaFile.name,
                          sa.literal(action), sa.literal(description),
                          sa.literal({**(details or {}), "operation_id": self.operation_id}, sa.JSON),
                          sa.literal(self.now, sa.DateTime)).where(MediaFile.id.in_([row.id for row in rows]))
        db.session.execute(sa.insert(MediaEvent).from_select(
            ["media_id", "owner_id", "actor_id", "media_name", "action", "description", "details", "created_at"], lines))

    def gone(self):
        return {media_id: GONE for media_id in self.media_ids if media_id not in self.rows}

    def in_library(self):
        """(rows in the library, failures for the files gone or in the trash): for edits that
        apply only to files in the library."""
        failures = self.gone()
        failures.update({row.id: IN_TRASH for row in self.rows.values() if row.deleted_at is not None})
        return [row for row in self.rows.values() if row.deleted_at is None], failures


def _quoted(names):
    return ", ".join(f"“{name}”" for name in names)


def _trash(batch):
    """Files a course uses are skipped, each with where it is used; the others go to the trash. The
    UPDATE itself also says "unused", so a link made meanwhile (committed first) keeps its file."""
    failures = batch.gone()
    live = [row for row in batch.rows.values() if row.deleted_at is None]
    used = places([row.id for row in live])
    failures.update({media_id: where_used_text(file_places) for media_id, file_places in used.items()})
    candidates = [row.id for row in live if row.id not in used]
    if candidates:
        trashed = set(db.session.scalars(
            sa.update(MediaFile).where(MediaFile.id.in_(candidates), MediaFile.usage_count == 0)
            .values(deleted_at=batch.now, status="deleted", updated_at=batch.now).returning(MediaFile.id)))
        failures.update({media_id: IN_USE for media_id in candidates if media_id not in trashed})
        batch.record([batch.rows[media_id] for media_id in trashed], "trashed", "Moved to trash")
    return failures


def _restore(batch):
    """Back to the library; with the "course links too" box ticked (links), the links that moving a
    file to the trash removed go back into their chapters."""
    trashed = [row for row in batch.rows.values() if row.deleted_at is not None]
    if trashed:
        ids = [row.id for row in trashed]
        status = sa.case((MediaFile.ready_at.is_not(None), "ready"),
                         (MediaFile.failure_reason.is_not(None), "failed"), else_="processing")
        db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids))
                           .values(deleted_at=None, status=status, updated_at=batch.now))
        batch.record(trashed, "restored", "Restored from trash")
        noted = removed_links(ids)
        if noted:
            actor = db.session.get(User, batch.actor_id)
            for media_id in noted:
                restore_links(db.session.get(MediaFile, media_id), actor, put_back=batch.params.get("links", False))
    return batch.gone()


def _delete(batch):
    """Delete trashed files for good; their stored objects are noted for removal after the commit.
    A file already gone counts as done: deleting it was the point."""
    used = used_ids([row.id for row in batch.rows.values()])
    trashed = [row for row in batch.rows.values() if row.deleted_at is not None and row.id not in used]
    failures = {row.id: "It is no longer in the trash (restored meanwhile), so it was kept."
                for row in batch.rows.values() if row.deleted_at is None}
    failures.update({media_id: IN_USE for media_id in used if media_id in batch.rows})
    if trashed:
        ids = [row.id for row in trashed]
        batch.record(trashed, "deleted", "Deleted permanently",
                     lambda row: {"size_bytes": row.size_bytes, "sha256": row.sha256})
        db.session.execute(sa.delete(media_tags).where(media_tags.c.media_id.in_(ids)))
        db.session.execute(sa.delete(MediaFile).where(MediaFile.id.in_(ids)))
        schedule_deletion([key for row in trashed for key in (row.storage_key, row.thumbnail_key) if key])
    return failures


def _tag_ids(owner_ids, names, create):
    """(owner id, tag name) -> tag id for these owners' tags of these names (created when `create`)."""
    if create:
        rows = [{"owner_id": owner_id, "name": name} for owner_id in owner_ids for name in names]
        insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        db.session.execute(insert(Tag).on_conflict_do_nothing(index_elements=["owner_id", "name"]), rows)
    found = db.session.execute(sa.select(Tag.owner_id, Tag.name, Tag.id)
                               .where(Tag.owner_id.in_(owner_ids), Tag.name.in_(names)))
    return {(owner_id, name): tag_id for owner_id, name, tag_id in found}


def _links(media_ids):
    """media id -> set of its tag ids."""
    links = {}
    for media_id, tag_id in db.session.execute(sa.select(media_tags.c.media_id, media_tags.c.tag_id)
                                               .where(media_tags.c.media_id.in_(media_ids))):
        links.setdefault(media_id, set()).add(tag_id)
    return links


def _refresh_search_text(rows, now):
    """Recompute the search text (name and tags, as MediaFile.refresh_search_text does) of `rows`,
    in one UPDATE (a CASE on the id: SQLite has no UPDATE ... FROM (VALUES ...) with column names);
    their updated_at becomes `now`."""
    if not rows:
        return
    names = {}
    for media_id, tag_name in db.session.execute(
            sa.select(media_tags.c.media_id, Tag.name).join(Tag, Tag.id == media_tags.c.tag_id)
            .where(media_tags.c.media_id.in_([row.id for row in rows])).order_by(Tag.name)):
        names.setdefault(media_id, []).append(tag_name)
    texts = {row.id: " ".join([row.name.lower(), *names.get(row.id, [])]) for row in rows}
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(list(texts)))
                       .values(search_text=sa.case(texts, value=MediaFile.id), updated_at=now))


def _add_tags(batch):
    names = batch.params["tags"]
    live, failures = batch.in_library()
    if not live:
        return failures
    tag_ids = _tag_ids({row.owner_id for row in live}, names, create=True)
    links = _links([row.id for row in live])
    added = {}  # media id -> the tag names it gets
    for row in live:
        have = links.get(row.id, set())
        wanted = tuple(name for name in names if tag_ids[(row.owner_id, name)] not in have)
        if not wanted:
            continue
        if len(have) + len(wanted) > MAX_TAGS_PER_FILE:
            failures[row.id] = f"A file can have at most {MAX_TAGS_PER_FILE} tags."
            continue
        added[row.id] = wanted
    # Grouped by the tags they get (usually one group): a few set-based statements per batch.
    for wanted in set(added.values()):
        rows = [batch.rows[media_id] for media_id, names_added in added.items() if names_added == wanted]
        for owner_id in {row.owner_id for row in rows}:
            ids = [row.id for row in rows if row.owner_id == owner_id]
            for name in wanted:
                db.session.execute(sa.insert(media_tags).from_select(
                    ["media_id", "tag_id"],
                    sa.select(MediaFile.id, sa.literal(tag_ids[(owner_id, name)], sa.Integer))
                    .where(MediaFile.id.in_(ids))))
        # Search matches each word on its own, so the new tags can go at the end of the search text.
        db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_([row.id for row in rows]))
                           .values(search_text=MediaFile.search_text + " " + " ".join(wanted), updated_at=batch.now))
        batch.record(rows, "tagged", "Added tag " + _quoted(wanted), {"added": list(wanted)})
    return failures


def _remove_tags(batch):
    names = batch.params["tags"]
    live, failures = batch.in_library()
    if not live:
        return failures
    tag_ids = _tag_ids({row.owner_id for row in live}, names, create=False)
    links = _links([row.id for row in live])
    removed = {}
    for row in live:
        gone = [name for name in names if tag_ids.get((row.owner_id, name)) in links.get(row.id, set())]
        if gone:
            removed[row.id] = gone
    if removed:
        db.session.execute(sa.delete(media_tags).where(media_tags.c.media_id.in_(list(removed)),
                                                       media_tags.c.tag_id.in_(list(tag_ids.values()))))
        changed = [batch.rows[media_id] for media_id in removed]
        _refresh_search_text(changed, batch.now)
        for gone in {tuple(names) for names in removed.values()}:
            rows = [row for row in changed if tuple(removed[row.id]) == gone]
            batch.record(rows, "tagged", "Removed tag " + _quoted(gone), {"removed": list(gone)})
    return failures


def _set_category(batch):
    category = batch.params["category"]
    live, failures = batch.in_library()
    changed = [row for row in live if row.category != category]
    if changed:
        db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_([row.id for row in changed]))
                           .values(category=category, updated_at=batch.now))
        description = f"Set category to “{category}”" if category else "Cleared the category"
        batch.record(changed, "updated", description, {"category": category})
    return failures


ACTIONS = {action.name: action for action in (
    Action("trash", "library", "Move {files} to the trash", _trash),
    Action("add_tags", "library", "Add {tags} to {files}", _add_tags),
    Action("remove_tags", "library", "Remove {tags} from {files}", _remove_tags),
    Action("set_category", "library", "Set the category of {files} to “{category}”", _set_category),
    Action("restore", "trash", "Restore {files} from the trash", _restore),
    Action("delete", "trash", "Delete {files} permanently", _delete),
)}


class ActionRefused(ValueError):
    """Parameters an action cannot work with; the message is for the user."""


def action_params(action, form):
    """The action's parameters from the submitted form, checked."""
    if action.name in ("add_tags", "remove_tags"):
        names = parse_tags(form.get("tags", ""))
        if not names:
            raise ActionRefused("Type at least one tag.")
        if len(names) > MAX_TAGS_PER_FILE:
            raise ActionRefused(f"A file can have at most {MAX_TAGS_PER_FILE} tags.")
        return {"tags": names}
    if action.name == "set_category":
        category = " ".join((form.get("category") or "").split())
        if len(category) > MAX_CATEGORY_LENGTH:
            raise ActionRefused(f"The category can be at most {MAX_CATEGORY_LENGTH} characters.")
        return {"category": category}
    if action.name == "restore":
        return {"links": form.get("links") == "1"}
    return {}


def title(action, params, count):
    files = "1 file" if count == 1 else f"{count:,} files"
    tags = params.get("tags") or []
    tag_text = ("tag " if len(tags) == 1 else "tags ") + _quoted(tags)
    text = action.verb.format(files=files, tags=tag_text, category=params.get("category", ""))
    if action.name == "set_category" and not params.get("category"):
        text = f"Clear the category of {files}"
    return text[:255]

