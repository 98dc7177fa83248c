"""The edit rules of a media file: its name, description, category and tags, and the search text
that follows them. Each rule lives here once: the single-file routes call it with a batch of one,
the bulk job with a batch of hundreds (set-based statements either way). Callers commit.

Moving to the trash, restoring and deleting for good are in library.trash.
"""
import re
import unicodedata

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..history import record_event, record_events
from ..upload.names import sanitize_filename
from .batch import IN_TRASH, Outcome
from .models import MediaFile, Tag, media_tags, search_text_of

MAX_TAG_LENGTH = 40
MAX_TAGS_PER_FILE = 50
MAX_CATEGORY_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 5000
TOO_MANY_TAGS = f"A file can have at most {MAX_TAGS_PER_FILE} tags."


class EditRefused(ValueError):
    """An edit that cannot be made; the message is for the user."""


# ---- what users type --------------------------------------------------------------------------

def normalize_tag(raw):
    """'  Week  1 ' -> 'week 1'; control characters dropped, length capped."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = re.sub(r"\s+", " ", text).strip().lower().strip(",")
    return text[:MAX_TAG_LENGTH].strip()


def parse_tags(raw):
    """Comma-separated user input -> unique normalised tag names, in order (at most a file's worth)."""
    names = list(dict.fromkeys(name for name in (normalize_tag(part) for part in (raw or "").split(",")) if name))
    if len(names) > MAX_TAGS_PER_FILE:
        raise EditRefused(TOO_MANY_TAGS)
    return names


def clean_category(raw):
    """A category on one line, within its length."""
    category = " ".join((raw or "").split())
    if len(category) > MAX_CATEGORY_LENGTH:
        raise EditRefused(f"The category can be at most {MAX_CATEGORY_LENGTH} characters.")
    return category


def clean_description(raw):
    description = (raw or "").replace("\r\n", "\n").strip()
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise EditRefused(f"The description can be at most {MAX_DESCRIPTION_LENGTH} characters.")
    return description


# ---- one file at a time: its name and description ----------------------------------------------

def rename_media(media, new_stem, actor):
    """Rename, keeping the extension; the name is never empty. A file in the trash is not edited."""
    if media.in_trash:
        raise EditRefused(IN_TRASH)
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


def set_description(media, raw, actor):
    if media.in_trash:
        raise EditRefused(IN_TRASH)
    description = clean_description(raw)
    if media.description == description:
        return False
    media.description = description
    media.refresh_search_text()
    record_event(media, "updated", "Changed the description", actor, {"description": description})
    return True


# ---- any number of files: category and tags -----------------------------------------------------

def set_category(batch, category):
    """Give the files in the library `category` (already cleaned; "" clears it)."""
    live, failures = batch.in_library()
    changed = [row.id for row in live if row.category != category]
    if changed:
        db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(changed))
                           .values(category=category, updated_at=batch.now).execution_options(synchronize_session=False))
        refresh_search_text(changed, batch.now)
        description = f"Set category to “{category}”" if category else "Cleared the category"
        record_events(changed, "updated", description, details={"category": category}, **batch.history())
    batch.expire_loaded()
    return Outcome(changed=changed, failures=failures)


def add_tags(batch, names):
    """Add the tags (normalised names) to the files in the library that lack them; a file would go
    over MAX_TAGS_PER_FILE fails alone."""
    live, failures = batch.in_library()
    if not live:
        return Outcome(failures=failures)
    tag_ids = _tag_ids({row.owner_id for row in live}, names, create=True)
    links = _links([row.id for row in live])
    added = {}  # media id -> the tag names it gets
    for row in live:
        have = links.get(row.id, set())
        wanted = tuple(name for name in names if tag_ids[(row.owner_id, name)] not in have)
        if not wanted:
            continue
        if len(have) + len(wanted) > MAX_TAGS_PER_FILE:
            failures[row.id] = TOO_MANY_TAGS
            continue
        added[row.id] = wanted
    if added:
        db.session.execute(sa.insert(media_tags), [
            {"media_id": media_id, "tag_id": tag_ids[(batch.rows[media_id].owner_id, name)]}
            for media_id, wanted in added.items() for name in wanted])
        refresh_search_text(list(added), batch.now)
        # Grouped by the tags they got (usually one group): one history statement per group.
        for wanted in set(added.values()):
            record_events([media_id for media_id, got in added.items() if got == wanted], "tagged",
                          "Added tag " + quoted(wanted), details={"added": list(wanted)}, **batch.history())
    batch.expire_loaded()
    return Outcome(changed=list(added), failures=failures)


def remove_tags(batch, names):
    live, failures = batch.in_library()
    if not live:
        return Outcome(failures=failures)
    tag_ids = _tag_ids({row.owner_id for row in live}, names, create=False)
    links = _links([row.id for row in live])
    removed = {}
    for row in live:
        gone = tuple(name for name in names if tag_ids.get((row.owner_id, name)) in links.get(row.id, set()))
        if gone:
            removed[row.id] = gone
    if removed:
        db.session.execute(sa.delete(media_tags).where(media_tags.c.media_id.in_(list(removed)),
                                                       media_tags.c.tag_id.in_(list(tag_ids.values()))))
        refresh_search_text(list(removed), batch.now)
        for gone in set(removed.values()):
            record_events([media_id for media_id, lost in removed.items() if lost == gone], "tagged",
                          "Removed tag " + quoted(gone), details={"removed": list(gone)}, **batch.history())
    batch.expire_loaded()
    return Outcome(changed=list(removed), failures=failures)


def refresh_search_text(media_ids, now):
    """Recompute the files' search text from their names, tags, categories and descriptions
    (search_text_of), in one UPDATE (a CASE on the id: SQLite has no UPDATE ... FROM (VALUES ...) with
    column names)."""
    if not media_ids:
        return
    names = {media_id: [] for media_id in media_ids}
    files = {media_id: rest for media_id, *rest in db.session.execute(
        sa.select(MediaFile.id, MediaFile.name, MediaFile.category, MediaFile.description).where(MediaFile.id.in_(media_ids)))}
    for media_id, tag_name in db.session.execute(
            sa.select(media_tags.c.media_id, Tag.name).join(Tag, Tag.id == media_tags.c.tag_id)
            .where(media_tags.c.media_id.in_(media_ids)).order_by(Tag.name)):
        names[media_id].append(tag_name)
    texts = {media_id: search_text_of(name, names[media_id], category, description)
             for media_id, (name, category, description) in files.items()}
    if texts:
        db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(list(texts)))
                           .values(search_text=sa.case(texts, value=MediaFile.id), updated_at=now)
                           .execution_options(synchronize_session=False))


def quoted(names):
    return ", ".join(f"“{name}”" for name in names)


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
