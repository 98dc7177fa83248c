"""SQLite: an FTS5 trigram index over media_files.search_text, kept in step by triggers, so that
a search for a rare word does not read the whole library (PostgreSQL has pg_trgm since 0002).

Revision ID: 0003_sqlite_trigram_search
Revises: 0002_search_and_trash_indexes
"""
from alembic import op

revision = "0003_sqlite_trigram_search"
down_revision = "0002_search_and_trash_indexes"
branch_labels = None
depends_on = None

STATEMENTS = [
    "CREATE VIRTUAL TABLE media_search USING fts5(search_text, content='media_files', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER media_search_insert AFTER INSERT ON media_files BEGIN "
    "INSERT INTO media_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER media_search_delete AFTER DELETE ON media_files BEGIN "
    "INSERT INTO media_search(media_search, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER media_search_update AFTER UPDATE OF search_text ON media_files BEGIN "
    "INSERT INTO media_search(media_search, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO media_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO media_search(media_search) VALUES ('rebuild')",
]


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in STATEMENTS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("media_search_insert", "media_search_delete", "media_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS media_search")
