"""Admin cleanups: "Purge expired trash" and "Remove files orphaned for more than N days".

A cleanup starts as a dry run, which writes down exactly which files it would remove (cleanup_items)
and reports count, bytes, a per-user breakdown and a sample. Running it works through that list, and
only that list, as a bulk operation (progress, Cancel, checkpoints): each file is checked again when
its batch comes, and a file that changed since the dry run (linked to a course, restored, moved to
the trash, edited, deleted) is spared, with the reason counted in the run's audit record. Orphans go
to the trash unless the admin chose to delete them permanently; the trash and delete rules are the
library's own (library.trash), so a linked file can never go.
"""
import csv
import io
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import timedelta

import sqlalchemy as sa

from ..auth.models import User
from ..courses.usage import IN_USE
from ..extensions import db
from ..progress.models import OperationItem
from ..scoping import scoped_to
from ..text import spreadsheet_safe
from ..timeutil import utcnow
from .batch import FileBatch, Outcome
from .models import MediaFile
from .queries import idle_condition, usage_condition
from .trash import ALREADY_TRASHED, delete_files, referenced_keys, retention_days, trash_files

KINDS = ("purge-trash", "orphans")
ORPHAN_KINDS = {"never-used": "never", "previously-used": "previously", "both": "unused"}
ORPHAN_LABELS = {"never-used": "never used", "previously-used": "previously used", "both": "never or previously used"}
SAMPLE = 20
CSV_BATCH = 1000

LINKED = "Linked to a course since the dry run"
RESTORED = "Restored from the trash since the dry run"
TRASHED = "Moved to the trash since the dry run"
EDITED = "Edited since the dry run"
GONE = "Deleted since the dry run"
NO_LONGER = "No longer matches the criteria"
SPARED = (LINKED, RESTORED, TRASHED, EDITED, GONE, NO_LONGER)


class CleanupRefused(ValueError):
    """Criteria that cannot be used; the message is for the admin."""


@dataclass(frozen=True)
class Criteria:
    kind: str  # purge-trash or orphans
    older_than: int = 0  # orphans: unused for more than this many days
    orphans: str = "both"  # never-used, previously-used or both
    user_id: int | None = None  # only this user's files
    permanent: bool = False  # orphans: delete for good instead of moving to the trash

    @classmethod
    def checked(cls, kind, older_than=None, orphans="both", user_email="", permanent=False):
        """Criteria from a form or the command line; CleanupRefused names what is wrong."""
        if kind not in KINDS:
            raise CleanupRefused("Choose “Purge expired trash” or “Remove orphaned files”.")
        user_id = None
        if user_email:
            user_id = db.session.scalar(sa.select(User.id).where(User.email == user_email.strip().lower()))
            if user_id is None:
                raise CleanupRefused(f"There is no user with the email address {user_email.strip()!r}.")
        if kind == "purge-trash":
            return cls(kind, user_id=user_id)
        if orphans not in ORPHAN_KINDS:
            raise CleanupRefused("Choose which orphans: never used, previously used, or both.")
        if older_than is None or not 0 <= older_than <= 36500:
            raise CleanupRefused("Give the number of days (0 to 36,500) a file must have been unused.")
        return cls(kind, older_than=older_than, orphans=orphans, user_id=user_id, permanent=bool(permanent))

    @classmethod
    def from_dict(cls, data):
        return cls(**{key: data[key] for key in ("kind", "older_than", "orphans", "user_id", "permanent")})

    def describe(self, user=None):
        who = f" of {user.email}" if user is not None else ""
        if self.kind == "purge-trash":
            return f"Purge trash{who} older than {retention_days()} days"
        how = "delete permanently" if self.permanent else "move to the trash"
        return (f"Files{who} {ORPHAN_LABELS[self.orphans]} for more than {self.older_than} days: {how}")


class CleanupRun(db.Model):
    __tablename__ = "cleanup_runs"

    id = db.Column(db.Integer, primary_key=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    actor_name = db.Column(db.String(255), nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    criteria = db.Column(db.JSON, nullable=False)
    source = db.Column(db.String(8), nullable=False)  # web or cli
    status = db.Column(db.String(16), nullable=False, default="dry-run")
    files = db.Column(db.BigInteger, nullable=False, default=0)
    bytes = db.Column(db.BigInteger, nullable=False, default=0)
    operation_id = db.Column(db.Integer, db.ForeignKey("operations.id", ondelete="SET NULL"))
    removed = db.Column(db.BigInteger, nullable=False, default=0)
    bytes_freed = db.Column(db.BigInteger, nullable=False, default=0)
    spared = db.Column(db.JSON, nullable=False, default=dict)  # reason -> files
    failures = db.Column(db.BigInteger, nullable=False, default=0)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)  # the dry run: what "since" means
    started_at = db.Column(db.DateTime)
    finished_at = db.Column(db.DateTime)

    operation = db.relationship("Operation")

    __table_args__ = (db.Index("ix_cleanup_runs_started", "started_at", "id"),)

    @property
    def rules(self):
        return Criteria.from_dict(self.criteria)

    @property
    def spared_total(self):
        return sum(self.spared.values())


class CleanupItem(db.Model):
    __tablename__ = "cleanup_items"

    run_id = db.Column(db.Integer, db.ForeignKey("cleanup_runs.id", ondelete="CASCADE"), primary_key=True)
    media_id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, nullable=False)
    name = db.Column(db.String(255), nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    size_bytes = db.Column(db.BigInteger, nullable=False)
    storage_key = db.Column(db.String(512), nullable=False)
    since = db.Column(db.DateTime, nullable=False)

    # No foreign key: the list stays as it was, whatever happens to the user later.
    owner = db.relationship("User", primaryjoin="foreign(CleanupItem.owner_id) == User.id", viewonly=True)

    __table_args__ = (db.Index("ix_cleanup_items_run_owner", "run_id", "owner_id"),)


def matches(criteria, as_of):
    """The SQL condition a file meets to be removed by `criteria`, judged at `as_of`."""
    if criteria.kind == "purge-trash":
        condition = sa.and_(MediaFile.deleted_at.is_not(None), MediaFile.usage_count == 0,
                            MediaFile.deleted_at < as_of - timedelta(days=retention_days()))
    else:
        condition = sa.and_(MediaFile.deleted_at.is_(None), usage_condition(ORPHAN_KINDS[criteria.orphans]),
                            idle_condition(criteria.older_than, now=as_of))
    return condition


def _since(criteria):
    if criteria.kind == "purge-trash":
        return MediaFile.deleted_at
    return sa.func.coalesce(MediaFile.unlinked_at, MediaFile.created_at)


def dry_run(actor, criteria, source="web", actor_name=None):
    """Write down what `criteria` would remove now; returns the run (committed). `actor` is who the run's
    operation belongs to (an admin); `actor_name` says who asked when it was not them in person."""
    now = utcnow()
    run = CleanupRun(actor_id=actor.id, actor_name=actor_name or f"{actor.display_name} <{actor.email}>", kind=criteria.kind,
                     criteria=asdict(criteria), source=source, status="dry-run", created_at=now, spared={})
    db.session.add(run)
    db.session.flush()
    chosen = sa.select(sa.literal(run.id), MediaFile.id, MediaFile.owner_id, MediaFile.name, MediaFile.kind,
                       MediaFile.size_bytes, MediaFile.storage_key, _since(criteria)).where(matches(criteria, now))
    if criteria.user_id:
        chosen = scoped_to(chosen, MediaFile.owner_id, criteria.user_id)
    db.session.execute(sa.insert(CleanupItem).from_select(
        ["run_id", "media_id", "owner_id", "name", "kind", "size_bytes", "storage_key", "since"], chosen))
    run.files, run.bytes = db.session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(CleanupItem.size_bytes), 0))
                                              .where(CleanupItem.run_id == run.id)).one()
    db.session.commit()
    return run


@dataclass(frozen=True)
class OwnerShare:
    user_id: int
    name: str
    email: str
    files: int
    bytes: int


def breakdown(run):
    """Per user: files and bytes the run lists, most bytes first."""
    rows = db.session.execute(
        sa.select(CleanupItem.owner_id, User.display_name, User.email, sa.func.count(), sa.func.sum(CleanupItem.size_bytes))
        .outerjoin(CleanupItem.owner).where(CleanupItem.run_id == run.id)
        .group_by(CleanupItem.owner_id, User.display_name, User.email)
        .order_by(sa.func.sum(CleanupItem.size_bytes).desc(), CleanupItem.owner_id))
    return [OwnerShare(owner_id, name or "(deleted user)", email or "", files, int(size))
            for owner_id, name, email, files, size in rows]


def sample(run, limit=SAMPLE):
    """The largest files the run lists."""
    return db.session.execute(sa.select(CleanupItem, User.email).outerjoin(CleanupItem.owner)
                              .where(CleanupItem.run_id == run.id)
                              .order_by(CleanupItem.size_bytes.desc(), CleanupItem.media_id).limit(limit)).all()


CSV_COLUMNS = ("file id", "owner", "name", "type", "size (bytes)", "unused since" , "storage key")
def csv_lines(run):
    """The run's full list as CSV, a few lines at a time (constant memory, whatever the count)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = list(CSV_COLUMNS)
    if run.kind == "purge-trash":
        header[5] = "in the trash since"
    writer.writerow(header)
    after = 0
    while True:
        rows = db.session.execute(
            sa.select(CleanupItem, User.email).outerjoin(CleanupItem.owner)
            .where(CleanupItem.run_id == run.id, CleanupItem.media_id > after)
            .order_by(CleanupItem.media_id).limit(CSV_BATCH)).all()
        for item, email in rows:
            writer.writerow([item.media_id, spreadsheet_safe(email or ""), spreadsheet_safe(item.name), item.kind,
                             item.size_bytes, item.since.isoformat(timespec="seconds"), spreadsheet_safe(item.storage_key)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < CSV_BATCH:
            return
        after = rows[-1][0].media_id


def media_ids(run_id):
    """The ids a run works through (a bulk selection's source)."""
    return sa.select(CleanupItem.media_id).where(CleanupItem.run_id == run_id)


def apply(batch, params):
    """One batch of a running cleanup: the files that still match the dry run's criteria (and were not
    edited since) go; every other one is spared with its reason."""
    run = db.session.get(CleanupRun, params["run_id"])
    criteria = run.rules
    now_state = {row.id: row for row in db.session.execute(
        sa.select(MediaFile.id, MediaFile.usage_count, MediaFile.deleted_at, MediaFile.updated_at,
                  matches(criteria, run.created_at).label("matches")).where(MediaFile.id.in_(batch.media_ids)))}
    spared, chosen = {}, []
    for media_id in batch.media_ids:
        row = now_state.get(media_id)
        reason = _spared_because(criteria, row, run.created_at)
        if reason:
            spared[media_id] = reason
        else:
            chosen.append(media_id)
    outcome = Outcome(failures=spared)
    if not chosen:
        return outcome
    work = FileBatch(chosen, actor_id=batch.actor_id, now=batch.now, operation_id=batch.operation_id)
    actor = db.session.get(User, batch.actor_id) if batch.actor_id else None
    if criteria.kind == "orphans":
        trashed = trash_files(work, actor)
        outcome.failures.update({media_id: _trash_refusal(media_id, reason, trashed)
                                 for media_id, reason in trashed.failures.items()})
        outcome.changed = trashed.changed
        if not (criteria.permanent and trashed.changed):
            return outcome
        work = FileBatch(trashed.changed, actor_id=batch.actor_id, now=batch.now, operation_id=batch.operation_id)
    description = (f"Deleted permanently by a cleanup: {criteria.describe()}" if criteria.kind == "orphans"
                   else f"Deleted permanently by a cleanup: its {retention_days()} days in the trash ended")
    deleted = delete_files(work, description=description)
    outcome.failures.update({media_id: LINKED for media_id in deleted.failures if media_id in work.rows})
    outcome.changed = deleted.changed
    return outcome


def _trash_refusal(media_id, reason, outcome):
    """Why the trash rule kept a file that still matched a moment before: linked, or trashed, meanwhile."""
    if media_id in outcome.in_use or reason == IN_USE:
        return LINKED
    return TRASHED if reason == ALREADY_TRASHED else GONE


def _spared_because(criteria, row, as_of):
    if row is None:
        return GONE
    if row.matches and row.updated_at <= as_of:
        return None
    if row.usage_count:
        return LINKED
    if criteria.kind == "orphans" and row.deleted_at is not None:
        return TRASHED
    if criteria.kind == "purge-trash" and row.deleted_at is None:
        return RESTORED
    if row.updated_at > as_of:
        return EDITED
    return NO_LONGER


def finish(operation, status):
    """The run's audit record, when its operation ends: files removed, bytes freed (stored bytes no
    file or version uses any more), and how many were spared and why."""
    run = db.session.scalar(sa.select(CleanupRun).where(CleanupRun.operation_id == operation.id))
    if run is None:
        return
    items = OperationItem.operation_id == operation.id
    errors = Counter(dict(db.session.execute(sa.select(OperationItem.error, sa.func.count())
                                             .where(items, OperationItem.error.is_not(None)).group_by(OperationItem.error)).all()))
    spared = Counter({reason: count for reason, count in errors.items() if reason in SPARED})
    listed = db.session.scalar(sa.select(sa.func.count()).where(items))
    if run.files > listed:  # deleted before the run began: the job's list holds existing files only
        spared[GONE] += run.files - listed
    removed = db.session.execute(
        sa.select(CleanupItem.storage_key, sa.func.max(CleanupItem.size_bytes))
        .join(OperationItem, sa.and_(OperationItem.media_id == CleanupItem.media_id, items))
        .where(CleanupItem.run_id == run.id, OperationItem.error.is_(None), OperationItem.position <= operation.checkpoint)
        .group_by(CleanupItem.storage_key)).all()
    freed = 0
    if run.kind == "purge-trash" or run.rules.permanent:
        keys = dict(removed)
        names = list(keys)
        for start in range(0, len(names), 1000):
            chunk = names[start:start + 1000]
            used = referenced_keys(chunk)
            freed += sum(keys[key] for key in chunk if key not in used)
    run.removed = operation.processed - operation.failed
    run.bytes_freed = freed
    run.spared = dict(spared)
    run.failures = sum(count for reason, count in errors.items() if reason not in SPARED)
    run.status = {"succeeded": "finished", "cancelled": "cancelled"}.get(status, "failed")
    run.finished_at = utcnow()
