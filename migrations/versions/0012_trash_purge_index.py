"""The trash purge finds expired files across every owner by when they were trashed.

Revision ID: 0012_trash_purge_index
Revises: 0011_versions
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_trash_purge_index"
down_revision = "0011_versions"
branch_labels = None
depends_on = None


def upgrade():
    where = sa.text("deleted_at IS NOT NULL")
    op.create_index("ix_media_trashed_at", "media_files", ["deleted_at", "id"], sqlite_where=where,
                    postgresql_where=where)


def downgrade():
    op.drop_index("ix_media_trashed_at", table_name="media_files")
