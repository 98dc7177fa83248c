"""Storage analytics: when a file stopped being used (unlinked_at), and summary rows of what the library
holds, kept by triggers in the transaction of every change to the files and their versions.

Each change to a row of media_files or media_versions appends the row's contribution (sign -1 for what
it was, +1 for what it is) to media_stat_deltas: an insert, never an update, so writers never wait on
one another's summary rows. library.stats folds the deltas into the summaries (media_stats,
orphan_stats, stored_objects, owner_storage) under one lock. The delta's columns are the contract
between these triggers and library.stats; changing them needs a new migration that replaces the
triggers.

Revision ID: 0015_storage_analytics
Revises: 0014_quotas
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_storage_analytics"
down_revision = "0014_quotas"
branch_labels = None
depends_on = None

DELTA_COLUMNS = ("owner_id", "state", "kind", "size_bytes", "created_at", "used", "unlinked_at", "storage_key", "sign")


def _delta_columns():
    return [
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),  # library, trash or version
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),  # 1 while a chapter links the file
        sa.Column("unlinked_at", sa.DateTime()),
        sa.Column("storage_key", sa.String(512), nullable=False),
        sa.Column("sign", sa.Integer(), nullable=False),
    ]


def _file_delta(row, sign):
    return (f"INSERT INTO media_stat_deltas ({', '.join(DELTA_COLUMNS)}) VALUES ("
            f"{row}.owner_id, CASE WHEN {row}.deleted_at IS NULL THEN 'library' ELSE 'trash' END, {row}.kind, "
            f"{row}.size_bytes, {row}.created_at, CASE WHEN {row}.usage_count > 0 THEN 1 ELSE 0 END, "
            f"{row}.unlinked_at, {row}.storage_key, {sign})")


def _version_delta(row, sign):
    # Only ready versions hold stored content of their own; a replacement being processed does not yet.
    return (f"INSERT INTO media_stat_deltas ({', '.join(DELTA_COLUMNS)}) SELECT "
            f"{row}.owner_id, 'version', {row}.kind, {row}.size_bytes, {row}.created_at, 0, NULL, "
            f"{row}.storage_key, {sign} WHERE {row}.status = 'ready'")


def _changed(columns, differs):
    return " OR ".join(f"OLD.{column} {differs} NEW.{column}" for column in columns)


FILE_COLUMNS = ("owner_id", "kind", "size_bytes", "created_at", "unlinked_at", "storage_key")
FILE_CHANGED = ("(OLD.deleted_at IS NULL) {d} (NEW.deleted_at IS NULL) OR (OLD.usage_count > 0) {d} (NEW.usage_count > 0) OR "
                + _changed(FILE_COLUMNS, "{d}"))
VERSION_COLUMNS = ("owner_id", "size_bytes", "storage_key")
VERSION_CHANGED = "(OLD.status = 'ready') {d} (NEW.status = 'ready') OR " + _changed(VERSION_COLUMNS, "{d}")
TRIGGERS = (("media_files", _file_delta, FILE_COLUMNS + ("deleted_at", "usage_count"), FILE_CHANGED),
            ("media_versions", _version_delta, VERSION_COLUMNS + ("status",), VERSION_CHANGED))


def _create_triggers(dialect):
    for table, delta, watched, changed in TRIGGERS:
        name = f"{table}_stats"
        if dialect == "postgresql":
            op.execute(f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN {delta('OLD', -1)}; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN {delta('NEW', 1)}; END IF;
  RETURN NULL;
END $$""")
            op.execute(f"CREATE TRIGGER {name}_insert_delete AFTER INSERT OR DELETE ON {table} FOR EACH ROW "
                       f"EXECUTE FUNCTION {name}()")
            op.execute(f"CREATE TRIGGER {name}_update AFTER UPDATE OF {', '.join(watched)} ON {table} FOR EACH ROW "
                       f"WHEN ({changed.format(d='IS DISTINCT FROM')}) EXECUTE FUNCTION {name}()")
        else:
            op.execute(f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {delta('NEW', 1)}; END")
            op.execute(f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {delta('OLD', -1)}; END")
            op.execute(f"CREATE TRIGGER {name}_update AFTER UPDATE OF {', '.join(watched)} ON {table} "
                       f"WHEN {changed.format(d='IS NOT')} BEGIN {delta('OLD', -1)}; {delta('NEW', 1)}; END")


def upgrade():
    dialect = op.get_bind().dialect.name
    op.add_column("media_files", sa.Column("unlinked_at", sa.DateTime()))
    # Files linked once and no longer: the last time their history says a link went away.
    op.execute("UPDATE media_files SET unlinked_at = (SELECT max(h.created_at) FROM media_history h "
               "WHERE h.media_id = media_files.id AND h.action = 'unlinked') WHERE usage_count = 0")
    library = sa.text("deleted_at IS NULL")
    # Every user's largest files (the admin's analytics).
    op.create_index("ix_media_size", "media_files", ["size_bytes", "id"], sqlite_where=library, postgresql_where=library)
    op.create_index("ix_media_versions_owner", "media_versions", ["owner_id", "media_id"])

    op.create_table("media_stat_deltas", sa.Column("id", sa.Integer(), primary_key=True), *_delta_columns())
    op.create_table("media_stat_batch", sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
                    *_delta_columns())
    op.create_table(
        "media_stats",
        sa.Column("owner_id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(8), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("size_bucket", sa.Integer(), primary_key=True),
        sa.Column("week", sa.Date(), primary_key=True),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "orphan_stats",
        sa.Column("owner_id", sa.Integer(), primary_key=True),
        sa.Column("orphan", sa.String(8), primary_key=True),  # never or previous
        sa.Column("since", sa.Date(), primary_key=True),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "stored_objects",
        sa.Column("owner_id", sa.Integer(), primary_key=True),
        sa.Column("storage_key", sa.String(512), primary_key=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("refs", sa.Integer(), nullable=False),  # rows of files and ready versions holding it
        sa.Column("listed", sa.Integer(), nullable=False),  # files in the library showing it
    )
    op.create_table(
        "owner_storage",
        sa.Column("owner_id", sa.Integer(), primary_key=True),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False),
        sa.Column("stored_objects", sa.BigInteger(), nullable=False),
        sa.Column("duplicate_groups", sa.BigInteger(), nullable=False),
        sa.Column("duplicate_files", sa.BigInteger(), nullable=False),
        sa.Column("duplicate_bytes", sa.BigInteger(), nullable=False),
    )
    _create_triggers(dialect)
    # What the library holds already, as deltas the first fold counts.
    op.execute(f"INSERT INTO media_stat_deltas ({', '.join(DELTA_COLUMNS)}) SELECT owner_id, "
               "CASE WHEN deleted_at IS NULL THEN 'library' ELSE 'trash' END, kind, size_bytes, created_at, "
               "CASE WHEN usage_count > 0 THEN 1 ELSE 0 END, unlinked_at, storage_key, 1 FROM media_files")
    op.execute(f"INSERT INTO media_stat_deltas ({', '.join(DELTA_COLUMNS)}) SELECT owner_id, 'version', kind, "
               "size_bytes, created_at, 0, NULL, storage_key, 1 FROM media_versions WHERE status = 'ready'")


def downgrade():
    dialect = op.get_bind().dialect.name
    for table, *_rest in TRIGGERS:
        name = f"{table}_stats"
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER {name}_insert_delete ON {table}")
            op.execute(f"DROP TRIGGER {name}_update ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
        else:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {name}_{event}")
    for table in ("owner_storage", "stored_objects", "orphan_stats", "media_stats", "media_stat_batch",
                  "media_stat_deltas"):
        op.drop_table(table)
    op.drop_index("ix_media_versions_owner", table_name="media_versions")
    op.drop_index("ix_media_size", table_name="media_files")
    op.drop_column("media_files", "unlinked_at")
