"""Summary rows of what users store: the one source of the analytics page's figures and of the quota's
count of stored bytes.

Triggers (migration 0015) append every change of a file or a ready version to media_stat_deltas, as
the row's old contribution (sign -1) and its new one (+1), in the transaction of the change. `fold`
moves the deltas into the summaries, one fold at a time:

- media_stats: files and bytes per owner, state (library, trash), type, size bucket and week added;
- orphan_stats: library files no chapter links, per owner, kind (never used, previously used) and
  the day they became orphans (added, or last unlinked);
- stored_objects: per owner and stored key, how many rows hold it and how many library files show it;
- owner_storage: per owner, the distinct bytes stored (what the provider bills) and the duplicates.

Reading a figure folds first (cheap: only what changed since the last fold), then reads summary rows:
no figure loads the files themselves.
"""
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db

# Upper edges of the size histogram's buckets (decimal units, as sizes are shown); the last is open.
SIZE_EDGES = (10**6, 10**7, 10**8, 10**9)
SIZE_LABELS = ("< 1 MB", "1–10 MB", "10–100 MB", "100 MB–1 GB", "> 1 GB")
SIZE_AXIS = ("< 1 MB", "1–10 MB", "10–100 MB", "0.1–1 GB", "> 1 GB")  # short enough for a phone's chart
FOLD_LOCK = 0x6d6d7374  # PostgreSQL advisory lock: one fold at a time
ORPHAN_KINDS = ("never", "previous")


def _delta_columns():
    return (
        db.Column("owner_id", db.Integer, nullable=False),
        db.Column("state", db.String(8), nullable=False),
        db.Column("kind", db.String(16), nullable=False),
        db.Column("size_bytes", db.BigInteger, nullable=False),
        db.Column("created_at", db.DateTime, nullable=False),
        db.Column("used", db.Integer, nullable=False),
        db.Column("unlinked_at", db.DateTime),
        db.Column("storage_key", db.String(512), nullable=False),
        db.Column("sign", db.Integer, nullable=False),
    )


deltas = db.Table("media_stat_deltas", db.Column("id", db.Integer, primary_key=True), *_delta_columns())
batch = db.Table("media_stat_batch", db.Column("id", db.Integer, primary_key=True, autoincrement=False),
                 *_delta_columns())
media_stats = db.Table(
    "media_stats",
    db.Column("owner_id", db.Integer, primary_key=True),
    db.Column("state", db.String(8), primary_key=True),
    db.Column("kind", db.String(16), primary_key=True),
    db.Column("size_bucket", db.Integer, primary_key=True),
    db.Column("week", db.Date, primary_key=True),
    db.Column("files", db.BigInteger, nullable=False),
    db.Column("bytes", db.BigInteger, nullable=False),
)
orphan_stats = db.Table(
    "orphan_stats",
    db.Column("owner_id", db.Integer, primary_key=True),
    db.Column("orphan", db.String(8), primary_key=True),
    db.Column("since", db.Date, primary_key=True),
    db.Column("files", db.BigInteger, nullable=False),
    db.Column("bytes", db.BigInteger, nullable=False),
)
stored_objects = db.Table(
    "stored_objects",
    db.Column("owner_id", db.Integer, primary_key=True),
    db.Column("storage_key", db.String(512), primary_key=True),
    db.Column("size_bytes", db.BigInteger, nullable=False),
    db.Column("refs", db.Integer, nullable=False),
    db.Column("listed", db.Integer, nullable=False),
)
owner_storage = db.Table(
    "owner_storage",
    db.Column("owner_id", db.Integer, primary_key=True),
    db.Column("stored_bytes", db.BigInteger, nullable=False),
    db.Column("stored_objects", db.BigInteger, nullable=False),
    db.Column("duplicate_groups", db.BigInteger, nullable=False),
    db.Column("duplicate_files", db.BigInteger, nullable=False),
    db.Column("duplicate_bytes", db.BigInteger, nullable=False),
)
DELTA_NAMES = [column.name for column in _delta_columns()]


def _dialect():
    return db.session.get_bind().dialect.name


def size_bucket(size):
    """The histogram bucket (0–4) of a size, as SQL."""
    return sa.case(*((size < edge, index) for index, edge in enumerate(SIZE_EDGES)), else_=len(SIZE_EDGES))


def week_of(moment):
    """The Monday of the week of `moment`, as a SQL date."""
    if _dialect() == "postgresql":
        return sa.cast(sa.func.date_trunc("week", moment), sa.Date)
    return sa.func.date(moment, "weekday 0", "-6 days")


def day_of(moment):
    return sa.cast(moment, sa.Date) if _dialect() == "postgresql" else sa.func.date(moment)


def _upsert(table, select, keys, added):
    insert = (postgresql.insert if _dialect() == "postgresql" else sqlite.insert)(table)
    statement = insert.from_select([column.name for column in select.selected_columns], select)
    return statement.on_conflict_do_update(
        index_elements=keys, set_={name: table.c[name] + statement.excluded[name] for name in added})


def _per_key(source):
    """Per owner and stored key: the change of rows holding it and of library files showing it."""
    listed = sa.func.sum(sa.case((source.c.state == "library", source.c.sign), else_=0))
    return (sa.select(source.c.owner_id, source.c.storage_key, sa.func.max(source.c.size_bytes).label("size_bytes"),
                      sa.func.sum(source.c.sign).label("refs"), listed.label("listed"))
            .group_by(source.c.owner_id, source.c.storage_key))


def _owner_changes(per_key):
    """Per owner: how the stored bytes and the duplicates change when `per_key` is applied to
    stored_objects (an object is stored while a row holds it; content shown by two or more library
    files is a duplicate group, each file past the first wasting its size)."""
    change = per_key.subquery()
    known = stored_objects
    refs_before = sa.func.coalesce(known.c.refs, 0)
    refs_after = refs_before + change.c.refs
    listed_before = sa.func.coalesce(known.c.listed, 0)
    listed_after = listed_before + change.c.listed
    size = change.c.size_bytes

    def when(condition, value):
        return sa.case((condition, value), else_=0)

    columns = {
        "stored_bytes": when(refs_after > 0, size) - when(refs_before > 0, size),
        "stored_objects": when(refs_after > 0, 1) - when(refs_before > 0, 1),
        "duplicate_groups": when(listed_after > 1, 1) - when(listed_before > 1, 1),
        "duplicate_files": when(listed_after > 1, listed_after) - when(listed_before > 1, listed_before),
        "duplicate_bytes": (when(listed_after > 1, listed_after - 1) - when(listed_before > 1, listed_before - 1)) * size,
    }
    joined = change.outerjoin(known, sa.and_(known.c.owner_id == change.c.owner_id,
                                             known.c.storage_key == change.c.storage_key))
    return (sa.select(change.c.owner_id, *(sa.func.sum(value).label(name) for name, value in columns.items()))
            .select_from(joined).where(sa.true()).group_by(change.c.owner_id))


OWNER_FIGURES = ("stored_bytes", "stored_objects", "duplicate_groups", "duplicate_files", "duplicate_bytes")


def _take_deltas():
    """Move the pending deltas into the batch table; False when there were none (or another fold is
    under way, on PostgreSQL). On SQLite the insert
    takes the database's write lock, so no delta can arrive between the copy and the delete; on
    PostgreSQL the rows deleted are exactly the rows copied (one statement)."""
    # By the primary key: after a big fold the table's dead rows would make a plain scan slow on PostgreSQL.
    if db.session.scalar(sa.select(deltas.c.id).order_by(deltas.c.id).limit(1)) is None:
        return False
    names = ", ".join(["id", *DELTA_NAMES])
    if _dialect() == "postgresql":
        # Never wait for another fold (a worker's maintenance round must not hang behind one): skip;
        # the other fold commits what there was, and readers see the summary as it was until then.
        if not db.session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(FOLD_LOCK))):
            return False
        db.session.execute(sa.text(f"WITH gone AS (DELETE FROM media_stat_deltas RETURNING {names}) "
                                   f"INSERT INTO media_stat_batch ({names}) SELECT {names} FROM gone"))
    else:
        db.session.execute(sa.text(f"INSERT INTO media_stat_batch ({names}) SELECT {names} FROM media_stat_deltas"))
        db.session.execute(sa.text("DELETE FROM media_stat_deltas WHERE id <= (SELECT max(id) FROM media_stat_batch)"))
    return True


def fold():
    """Fold the pending deltas into the summary rows and commit. Returns how many deltas it folded."""
    if not _take_deltas():
        db.session.rollback()
        return 0
    folded = db.session.scalar(sa.select(sa.func.count()).select_from(batch))
    files = batch.c
    listed = sa.select(files.owner_id, files.state, files.kind, size_bucket(files.size_bytes).label("size_bucket"),
                       week_of(files.created_at).label("week"), sa.func.sum(files.sign).label("files"),
                       sa.func.sum(files.sign * files.size_bytes).label("bytes")) \
        .where(files.state.in_(("library", "trash"))).group_by(sa.literal_column("1"), sa.literal_column("2"),
                                                                sa.literal_column("3"), sa.literal_column("4"),
                                                                sa.literal_column("5"))
    db.session.execute(_upsert(media_stats, listed, ["owner_id", "state", "kind", "size_bucket", "week"],
                               ("files", "bytes")))
    orphan = sa.case((files.unlinked_at.is_(None), "never"), else_="previous")
    since = day_of(sa.func.coalesce(files.unlinked_at, files.created_at))
    orphans = sa.select(files.owner_id, orphan.label("orphan"), since.label("since"), sa.func.sum(files.sign).label("files"),
                        sa.func.sum(files.sign * files.size_bytes).label("bytes")) \
        .where(files.state == "library", files.used == 0).group_by(sa.literal_column("1"), sa.literal_column("2"),
                                                                   sa.literal_column("3"))
    db.session.execute(_upsert(orphan_stats, orphans, ["owner_id", "orphan", "since"], ("files", "bytes")))
    per_key = _per_key(batch)
    db.session.execute(_upsert(owner_storage, _owner_changes(per_key), ["owner_id"], OWNER_FIGURES))
    keyed = per_key.where(sa.true())
    db.session.execute(_upsert(stored_objects, keyed, ["owner_id", "storage_key"], ("refs", "listed")))
    db.session.execute(sa.delete(stored_objects).where(stored_objects.c.refs <= 0))
    for table in (media_stats, orphan_stats):
        db.session.execute(sa.delete(table).where(table.c.files == 0))
    db.session.execute(sa.delete(batch))
    db.session.commit()
    return folded


def stored_bytes(owner_id):
    """The distinct bytes stored for `owner_id` now, without writing: the summary row plus what the
    deltas not folded yet change (the quota's count, read in the middle of an upload's transaction)."""
    summary = db.session.scalar(sa.select(owner_storage.c.stored_bytes).where(owner_storage.c.owner_id == owner_id)) or 0
    pending = _owner_changes(_per_key(deltas).where(deltas.c.owner_id == owner_id)).subquery()
    return int(summary + (db.session.scalar(sa.select(pending.c.stored_bytes)) or 0))
