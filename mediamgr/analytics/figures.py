"""The analytics page's figures, each one SQL statement over the storage summaries (library.stats) or
an index: no figure reads the files one by one. `owner_id` None means every user's (an admin's view)."""
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..extensions import db
from ..library import stats
from ..library.models import MediaFile, MediaVersion
from ..scoping import scoped_to
from ..timeutil import utcnow

ORPHAN_AGES = (30, 90, 365)
GROWTH_WEEKS = 26
LARGEST = 20
USERS_PER_PAGE = 25


def _of(query, column, owner_id):
    return query if owner_id is None else scoped_to(query, column, owner_id)


@dataclass(frozen=True)
class Amount:
    files: int = 0
    bytes: int = 0


def _amount(row):
    return Amount(int(row[0] or 0), int(row[1] or 0)) if row else Amount()


def listed_by_state(owner_id):
    """{"library": Amount, "trash": Amount}: files and bytes as the library lists them."""
    table = stats.media_stats
    rows = db.session.execute(_of(sa.select(table.c.state, sa.func.sum(table.c.files), sa.func.sum(table.c.bytes))
                                  .group_by(table.c.state), table.c.owner_id, owner_id)).all()
    found = {state: Amount(int(files or 0), int(size or 0)) for state, files, size in rows}
    return {state: found.get(state, Amount()) for state in ("library", "trash")}


def _earlier_versions():
    """Ready versions that are not their file's current content (its storage key differs)."""
    return (sa.select(sa.func.count(), sa.func.sum(MediaVersion.size_bytes))
            .join(MediaFile, MediaFile.id == MediaVersion.media_id)
            .where(MediaVersion.status == "ready", MediaVersion.storage_key != MediaFile.storage_key))


def earlier_versions(owner_id):
    return _amount(db.session.execute(_of(_earlier_versions(), MediaVersion.owner_id, owner_id)).one())


def stored(owner_id):
    """{"stored_bytes", "stored_objects", "duplicate_groups", "duplicate_files", "duplicate_bytes"}."""
    table = stats.owner_storage
    row = db.session.execute(_of(sa.select(*(sa.func.coalesce(sa.func.sum(table.c[name]), 0)
                                             for name in stats.OWNER_FIGURES)), table.c.owner_id, owner_id)).one()
    return dict(zip(stats.OWNER_FIGURES, (int(value) for value in row)))


def by_type(owner_id):
    """[(kind, Amount)] of the library, largest first."""
    table = stats.media_stats
    rows = db.session.execute(_of(sa.select(table.c.kind, sa.func.sum(table.c.files), sa.func.sum(table.c.bytes))
                                  .where(table.c.state == "library").group_by(table.c.kind), table.c.owner_id, owner_id))
    return sorted(((kind, Amount(int(files), int(size))) for kind, files, size in rows if files),
                  key=lambda pair: -pair[1].bytes)


def size_histogram(owner_id):
    """[Amount] per size bucket (stats.SIZE_LABELS), empty buckets included."""
    table = stats.media_stats
    rows = dict((bucket, Amount(int(files), int(size))) for bucket, files, size in db.session.execute(_of(
        sa.select(table.c.size_bucket, sa.func.sum(table.c.files), sa.func.sum(table.c.bytes))
        .where(table.c.state == "library").group_by(table.c.size_bucket), table.c.owner_id, owner_id)))
    return [rows.get(bucket, Amount()) for bucket in range(len(stats.SIZE_LABELS))]


@dataclass(frozen=True)
class Week:
    start: object  # the Monday
    added: Amount
    cumulative_bytes: int


def growth(owner_id, weeks=GROWTH_WEEKS, today=None):
    """The last `weeks` weeks (files and bytes added each week, and the bytes held in all at its end),
    weeks without uploads included; from the files held now, in the library or the trash."""
    table = stats.media_stats
    today = today or utcnow().date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    before = db.session.scalar(_of(sa.select(sa.func.coalesce(sa.func.sum(table.c.bytes), 0))
                                   .where(table.c.week < first), table.c.owner_id, owner_id))
    rows = {week: Amount(int(files), int(size)) for week, files, size in db.session.execute(_of(
        sa.select(table.c.week, sa.func.sum(table.c.files), sa.func.sum(table.c.bytes)).where(table.c.week >= first)
        .group_by(table.c.week), table.c.owner_id, owner_id))}
    total, series = int(before or 0), []
    for number in range(weeks):
        start = first + timedelta(weeks=number)
        added = rows.get(start, Amount())
        total += added.bytes
        series.append(Week(start, added, total))
    return series


def largest(owner_id, limit=LARGEST):
    query = (sa.select(MediaFile).where(MediaFile.deleted_at.is_(None)).options(selectinload(MediaFile.owner))
             .order_by(MediaFile.size_bytes.desc(), MediaFile.id.desc()).limit(limit))
    return list(db.session.scalars(_of(query, MediaFile.owner_id, owner_id)))


@dataclass(frozen=True)
class Orphans:
    kind: str  # never or previous
    total: Amount
    older: dict  # days -> Amount unused for more than that many days


def orphans(owner_id, today=None):
    """Never used and previously used library files: count, bytes, and how many are older than each
    of ORPHAN_AGES days (since added, or since their last link went away)."""
    table = stats.orphan_stats
    today = today or utcnow().date()
    columns = [sa.func.sum(table.c.files), sa.func.sum(table.c.bytes)]
    for days in ORPHAN_AGES:
        old = table.c.since < today - timedelta(days=days)
        columns += [sa.func.sum(sa.case((old, table.c.files), else_=0)), sa.func.sum(sa.case((old, table.c.bytes), else_=0))]
    rows = {row[0]: row[1:] for row in db.session.execute(_of(sa.select(table.c.orphan, *columns)
                                                              .group_by(table.c.orphan), table.c.owner_id, owner_id))}
    found = []
    for kind in stats.ORPHAN_KINDS:
        values = rows.get(kind, (0,) * (2 + 2 * len(ORPHAN_AGES)))
        older = {days: _amount(values[2 + 2 * index:4 + 2 * index]) for index, days in enumerate(ORPHAN_AGES)}
        found.append(Orphans(kind, _amount(values[:2]), older))
    return found


@dataclass(frozen=True)
class Overview:
    library: Amount
    trash: Amount
    versions: Amount
    stored: dict

    @property
    def listed_bytes(self):
        return self.library.bytes + self.trash.bytes + self.versions.bytes

    @property
    def saved_bytes(self):
        return max(0, self.listed_bytes - self.stored["stored_bytes"])


def overview(owner_id):
    states = listed_by_state(owner_id)
    return Overview(states["library"], states["trash"], earlier_versions(owner_id), stored(owner_id))


# The admin's per-user table: column -> (label, SQL expression over the joined summaries).
def _user_table():
    media, orphan, storage = stats.media_stats, stats.orphan_stats, stats.owner_storage
    listed = (sa.select(media.c.owner_id,
                        sa.func.sum(sa.case((media.c.state == "library", media.c.files), else_=0)).label("files"),
                        sa.func.sum(sa.case((media.c.state == "library", media.c.bytes), else_=0)).label("library"),
                        sa.func.sum(sa.case((media.c.state == "trash", media.c.bytes), else_=0)).label("trash"))
              .group_by(media.c.owner_id).subquery())
    orphaned = sa.select(orphan.c.owner_id, sa.func.sum(orphan.c.bytes).label("bytes")).group_by(orphan.c.owner_id).subquery()
    versions = (_earlier_versions().with_only_columns(MediaVersion.owner_id, sa.func.sum(MediaVersion.size_bytes).label("bytes"))
                .group_by(MediaVersion.owner_id).subquery())
    stored_bytes = sa.func.coalesce(storage.c.stored_bytes, 0)
    columns = {
        "name": ("Name", sa.func.lower(User.display_name)),
        "files": ("Files", sa.func.coalesce(listed.c.files, 0)),
        "library": ("In the library", sa.func.coalesce(listed.c.library, 0)),
        "versions": ("In versions", sa.func.coalesce(versions.c.bytes, 0)),
        "trash": ("In the trash", sa.func.coalesce(listed.c.trash, 0)),
        "orphaned": ("Orphaned", sa.func.coalesce(orphaned.c.bytes, 0)),
        "stored": ("Stored", stored_bytes),
        "quota": ("Quota used", sa.case((User.quota_bytes > 0, stored_bytes * 100.0 / User.quota_bytes), else_=None)),
    }
    joined = (sa.select(User).outerjoin(listed, listed.c.owner_id == User.id)
              .outerjoin(orphaned, orphaned.c.owner_id == User.id).outerjoin(versions, versions.c.owner_id == User.id)
              .outerjoin(storage, storage.c.owner_id == User.id))
    return columns, joined


USER_COLUMNS = ("name", "files", "library", "versions", "trash", "orphaned", "stored", "quota")


@dataclass
class UserTable:
    rows: list  # dicts: user, and one value per column
    labels: dict
    sort: str
    descending: bool
    page: int
    pages: int
    total: int


def user_table(sort="stored", descending=True, page=1, per_page=USERS_PER_PAGE):
    """Every user with their storage figures, sorted by any column (users without a value last) and paged."""
    columns, joined = _user_table()
    sort = sort if sort in columns else "stored"
    total = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    key = columns[sort][1]
    order = (key.desc().nulls_last() if descending else key.asc().nulls_last(), User.id)
    query = joined.add_columns(*(expression.label(name) for name, (_label, expression) in columns.items()))
    rows = db.session.execute(query.order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
    return UserTable(rows=[{"user": row[0], **{name: row[index + 1] for index, name in enumerate(columns)}}
                           for row in rows],
                     labels={name: label for name, (label, _expression) in columns.items()},
                     sort=sort, descending=descending, page=page, pages=pages, total=total)
