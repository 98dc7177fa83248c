"""Fill a migrated database with the generated libraries, fast: SQLAlchemy Core executemany on
SQLite, COPY on PostgreSQL, one transaction, then statistics for the query planner."""
import time
from datetime import datetime, timezone

from werkzeug.security import generate_password_hash

from mediamgr import create_app
from mediamgr.extensions import db

from .dataset import MEDIA_COLUMNS, MediaGenerator, tag_rows, user_rows
from .services import migrate

PASSWORD = "bench-password-1"
TAG_LINK_COLUMNS = ("media_id", "tag_id")


class _CoreWriter:
    """SQLite: Core INSERT executemany (so DateTime values are stored the way the app stores them)."""

    def __init__(self, connection):
        self.connection = connection

    def write(self, table, columns, rows):
        if rows:
            self.connection.execute(db.metadata.tables[table].insert(), [dict(zip(columns, row)) for row in rows])


class _CopyWriter:
    """PostgreSQL: COPY FROM STDIN through the driver connection under SQLAlchemy's transaction."""

    def __init__(self, connection):
        self.cursor = connection.connection.driver_connection.cursor()

    def write(self, table, columns, rows):
        with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def seed_database(config, plan, dialect):
    """Migrate, fill and analyse the database in `config`; returns counts and timings."""
    migrate(config)
    app = create_app(config)
    started = time.perf_counter()
    with app.app_context():
        with db.engine.begin() as connection:
            writer = _CopyWriter(connection) if dialect == "postgresql" else _CoreWriter(connection)
            counts = _fill(connection, plan, writer)
            if dialect == "postgresql":
                _reset_sequences(connection)
        filled = time.perf_counter()
        _analyze(dialect)
        db.engine.dispose()
    return {**counts, "fill_seconds": filled - started, "analyze_seconds": time.perf_counter() - filled}


def _fill(connection, plan, writer):
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    # One hash for every account: hashing is slow on purpose and the accounts only need to log in.
    password_hash = generate_password_hash(PASSWORD)
    users = user_rows(plan, password_hash, now)
    tags = tag_rows(plan, now)
    writer.write("users", tuple(users[0]), [tuple(row.values()) for row in users])
    writer.write("tags", tuple(tags[0]), [tuple(row.values()) for row in tags])
    media_count = link_count = trash_count = 0
    for media, links in MediaGenerator(plan, now).batches():
        writer.write("media_files", MEDIA_COLUMNS, media)
        writer.write("media_tags", TAG_LINK_COLUMNS, links)
        media_count += len(media)
        link_count += len(links)
        trash_count += sum(row[MEDIA_COLUMNS.index("deleted_at")] is not None for row in media)
    from .courses import seed_courses  # courses.py times requests with grid.py's tools, which need this module

    courses = seed_courses(connection, now)
    return {"users": len(users), "tags": len(tags), "media_files": media_count, "media_tags": link_count,
            "in_trash": trash_count, **courses}


def _reset_sequences(connection):
    """COPY with explicit ids leaves the serial sequences at 1: move them past the rows."""
    for table in ("users", "tags", "media_files"):
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def _analyze(dialect):
    """Planner statistics, as a long-running database has them.

    On PostgreSQL this is VACUUM ANALYZE: in steady state autovacuum has also set the visibility
    map (index-only scans skip the heap); without it, autovacuum would start in the middle of the
    timings and add noise.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE" if dialect == "postgresql" else "ANALYZE")
