"""What a bulk action applies to: files ticked one by one, every file matching a filter, or the files
an earlier operation changed (its Undo). A filter selection travels as the filter itself, never as
100,000 ids; the job turns it into the operation's list of files when it starts."""
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from ..extensions import db
from ..library import cleanup
from ..library.models import MediaFile
from ..library.queries import LibraryFilter, filtered_media
from ..parsing import parse_ids
from ..progress.models import OperationItem
from ..scoping import owned

SCOPES = ("library", "trash")
MAX_PICKED = 10_000  # ticked one by one; beyond this the page offers "Select all matching"


class SelectionRefused(ValueError):
    """A selection that cannot be acted on; the message is for the user."""


@dataclass(frozen=True)
class Selection:
    scope: str = "library"
    all_matching: bool = False
    filter: dict = field(default_factory=dict)  # LibraryFilter.matching_args() (library scope)
    ids: tuple = ()
    operation_id: int | None = None  # the files this operation changed (the ones it did not skip)
    cleanup_id: int | None = None  # the files a cleanup's dry run listed, wherever they are now

    @classmethod
    def changed_by(cls, operation, scope):
        """The files `operation` changed, where they are now in `scope` (an Undo's selection)."""
        return cls(scope=scope, operation_id=operation.id)

    @classmethod
    def from_form(cls, form):
        scope = form.get("scope", "library")
        if scope not in SCOPES:
            raise SelectionRefused("Unknown selection scope.")
        if form.get("all") == "1":
            return cls(scope=scope, all_matching=True, filter=LibraryFilter.from_args(form).matching_args())
        ids = parse_ids(form.getlist("ids"))
        if ids is None:
            raise SelectionRefused("The selection holds something that is not a file.")
        ids = tuple(dict.fromkeys(ids))
        if not ids:
            raise SelectionRefused("Select at least one file first.")
        if len(ids) > MAX_PICKED:
            raise SelectionRefused(f"Select at most {MAX_PICKED:,} files one by one, or use “Select all matching”.")
        return cls(scope=scope, ids=ids)

    @classmethod
    def from_dict(cls, data):
        return cls(scope=data["scope"], all_matching=data["all_matching"], filter=data.get("filter") or {},
                   ids=tuple(data.get("ids") or ()), operation_id=data.get("operation_id"),
                   cleanup_id=data.get("cleanup_id"))

    def to_dict(self):
        return {**asdict(self), "ids": list(self.ids)}

    def media_ids(self, user):
        """A SELECT of the ids of the files this selection holds for `user`, in id order."""
        if self.cleanup_id:  # in the library or the trash: the cleanup checks each file itself
            query = owned(MediaFile, user).where(MediaFile.id.in_(cleanup.media_ids(self.cleanup_id)))
        elif self.scope == "trash":
            query = owned(MediaFile, user).where(MediaFile.deleted_at.is_not(None))
        elif self.all_matching:
            query = filtered_media(user, LibraryFilter.from_args(self.filter))
        else:
            query = owned(MediaFile, user).where(MediaFile.deleted_at.is_(None))
        if self.ids:
            query = query.where(MediaFile.id.in_(self.ids))
        if self.operation_id:
            query = query.where(MediaFile.id.in_(
                sa.select(OperationItem.media_id).where(OperationItem.operation_id == self.operation_id,
                                                        OperationItem.error.is_(None))))
        return query.with_only_columns(MediaFile.id).order_by(MediaFile.id)

    def count(self, user):
        return db.session.scalar(db.select(db.func.count()).select_from(self.media_ids(user).order_by(None).subquery()))

    def size(self, user):
        ids = self.media_ids(user).order_by(None).subquery()
        return db.session.scalar(db.select(db.func.coalesce(db.func.sum(MediaFile.size_bytes), 0))
                                 .where(MediaFile.id.in_(db.select(ids.c.id))))
