"""Documents are previewed as page images (renditions), never as the PDF itself on the app's origin;
a document's page count.

Revision ID: 0010_document_pages
Revises: 0009_sessions_and_tokens
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_document_pages"
down_revision = "0009_sessions_and_tokens"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("media_files") as batch:
        batch.add_column(sa.Column("page_count", sa.Integer()))
    op.create_table(
        "media_renditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("spec", sa.String(32), nullable=False),
        sa.Column("storage_key", sa.String(512), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["media_id"], ["media_files.id"], name=op.f("fk_media_renditions_media_id_media_files"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_renditions")),
        sa.UniqueConstraint("media_id", "spec", name="uq_media_renditions_media_spec"),
    )
    op.create_index("ix_media_renditions_storage_key", "media_renditions", ["storage_key"])


def downgrade():
    op.drop_index("ix_media_renditions_storage_key", table_name="media_renditions")
    op.drop_table("media_renditions")
    with op.batch_alter_table("media_files") as batch:
        batch.drop_column("page_count")
