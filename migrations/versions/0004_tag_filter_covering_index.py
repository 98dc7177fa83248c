"""PostgreSQL: a covering index of the library's sort keys by id, so that a tag filter reads its
matches' owner, type and sort keys from the index (an index-only scan) instead of one table-row
read per tagged file. SQLite reads those rows quickly enough without it.

Revision ID: 0004_tag_filter_covering_index
Revises: 0003_sqlite_trigram_search
"""
from alembic import op

revision = "0004_tag_filter_covering_index"
down_revision = "0003_sqlite_trigram_search"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_media_live_sort_keys ON media_files (id) "
                   "INCLUDE (owner_id, kind, created_at, name_key, size_bytes) WHERE deleted_at IS NULL")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_media_live_sort_keys")
