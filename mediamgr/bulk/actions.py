"""The bulk actions: which library rule each one applies to a batch, the parameters it takes from
the form, and its title. The rules themselves (library.service, library.trash) are the ones the
single-file routes call, so a bulk action and a click on one file can never disagree.

Every rule is idempotent, so a batch that runs again after a crash changes nothing twice: a file
already in the trash is not trashed again, a tag a file already has is not added again.
"""
from dataclasses import dataclass
from typing import Callable

from ..auth.models import User
from ..extensions import db
from ..library.service import (EditRefused, add_tags, clean_category, parse_tags, quoted, remove_tags,
                               set_category)
from ..library import cleanup
from ..library.duplicates import merge_duplicates
from ..library.trash import delete_files, restore_files, trash_files
from ..video.processing import process_batch, watermark_params

CONFIRM_ABOVE = 5  # a trash or a new category for more files than this asks first, with count and size


@dataclass(frozen=True)
class Action:
    name: str
    scope: str  # "library" or "trash": where the action is offered
    verb: str  # "Move {files} to the trash" style title, filled in by title()
    apply: Callable  # (FileBatch, params) -> Outcome
    undo: str = ""  # the action that puts the files back ("restore" after a trash)
    in_bar: bool = True  # offered on a selection (POST /media/bulk); the others start from their own page
    deletes: bool = False  # removes stored bytes: each batch's commit is durable, then the bytes go
    finish: Callable | None = None  # (operation, status), in the transaction that ends the operation


def _actor(batch):
    return db.session.get(User, batch.actor_id) if batch.actor_id else None


ACTIONS = {action.name: action for action in (
    Action("trash", "library", "Move {files} to the trash", lambda batch, _params: trash_files(batch, _actor(batch)),
           undo="restore"),
    Action("add_tags", "library", "Add {tags} to {files}", lambda batch, params: add_tags(batch, params["tags"])),
    Action("remove_tags", "library", "Remove {tags} from {files}",
           lambda batch, params: remove_tags(batch, params["tags"])),
    Action("set_category", "library", "Set the category of {files} to “{category}”",
           lambda batch, params: set_category(batch, params["category"])),
    Action("restore", "trash", "Restore {files} from the trash",
           lambda batch, params: restore_files(batch, _actor(batch), links=params.get("links", False))),
    Action("delete", "trash", "Delete {files} permanently", lambda batch, _params: delete_files(batch), deletes=True),
    # Processing jobs (video.processing): an operation of its own per video or audio file.
    Action("normalise", "library", "Normalise the loudness of {files}",
           lambda batch, _params: process_batch(batch, "normalise", {})),
    Action("web_rendition", "library", "Make {files} web-playable",
           lambda batch, _params: process_batch(batch, "web_rendition", {})),
    Action("watermark", "library", "Watermark {files}", lambda batch, params: process_batch(batch, "watermark", params)),
    # From the Duplicates view (not the selection bar): {files} are the copies, each merged into the
    # file kept for its content (params["keep"]: sha256 -> id).
    Action("merge", "library", "Merge duplicates: {files} into the files kept",
           lambda batch, params: merge_duplicates(batch, params["keep"], _actor(batch)), in_bar=False),
    # An admin's cleanup (library.cleanup), from /admin or `flask cleanup`: the dry run's list of files.
    Action("cleanup", "library", "Cleanup: {description} ({files})", cleanup.apply, in_bar=False, deletes=True,
           finish=cleanup.finish),
)}


class ActionRefused(ValueError):
    """Parameters an action cannot work with; the message is for the user."""


def action_params(action, form):
    """The action's parameters from the submitted form, checked by the same rules a single file's
    edit uses."""
    try:
        if action.name in ("add_tags", "remove_tags"):
            names = parse_tags(form.get("tags", ""))
            if not names:
                raise ActionRefused("Type at least one tag.")
            return {"tags": names}
        if action.name == "set_category":
            return {"category": clean_category(form.get("category"))}
        if action.name == "watermark":
            return watermark_params(form)
    except EditRefused as refusal:
        raise ActionRefused(str(refusal)) from refusal
    if action.name == "restore":
        return {"links": form.get("links") == "1"}
    return {}


def needs_confirmation(action, count):
    """A permanent delete always asks; a trash or a category change of more than a handful asks too."""
    return action.name == "delete" or (action.name in ("trash", "set_category") and count > CONFIRM_ABOVE)


def title(action, params, count):
    files = "1 file" if count == 1 else f"{count:,} files"
    tags = params.get("tags") or []
    tag_text = ("tag " if len(tags) == 1 else "tags ") + quoted(tags)
    text = action.verb.format(files=files, tags=tag_text, category=params.get("category", ""),
                              description=params.get("description", ""))
    if action.name == "set_category" and not params.get("category"):
        text = f"Clear the category of {files}"
    return text[:255]
