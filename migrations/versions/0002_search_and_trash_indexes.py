"""Search and trash indexes: a partial trash index instead of one over every row's deleted_at,
a covering search index, and on PostgreSQL a trigram index for substring search.

Revision ID: 0002_search_and_trash_indexes
Revises: 0001_initial
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_search_and_trash_indexes"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

IN_LIBRARY = sa.text("deleted_at IS NULL")
IN_TRASH = sa.text("deleted_at IS NOT NULL")


def upgrade():
    with op.batch_alter_table("media_files") as batch:
        batch.drop_index("ix_media_owner_deleted")
        batch.create_index("ix_media_owner_trash", ["owner_id", "deleted_at", "id"],
                           sqlite_where=IN_TRASH, postgresql_where=IN_TRASH)
        batch.create_index("ix_media_owner_search", ["owner_id", "created_at", "id", "search_text"],
                           sqlite_where=IN_LIBRARY, postgresql_where=IN_LIBRARY)
    if op.get_bind().dialect.name == "postgresql":
        schema = _trigram_schema()
        op.execute(f'CREATE INDEX ix_media_search_trgm ON media_files USING gin (search_text "{schema}".gin_trgm_ops) '
                   "WHERE deleted_at IS NULL")


def _trigram_schema():
    """Where pg_trgm lives, installing it in public when missing (not in the app's own schema, which
    may be a throwaway one in tests)."""
    find = sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                   "WHERE e.extname = 'pg_trgm'")
    schema = op.get_bind().scalar(find)
    if schema is None:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        schema = op.get_bind().scalar(find)
    return schema


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_media_search_trgm")
    with op.batch_alter_table("media_files") as batch:
        batch.drop_index("ix_media_owner_search")
        batch.drop_index("ix_media_owner_trash")
        batch.create_index("ix_media_owner_deleted", ["owner_id", "deleted_at"])
