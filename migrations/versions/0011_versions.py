"""Versions of a file's content: every content a file has had (the current one is the newest numbered
version), and a replacement still being processed (no number yet). Files that are ready get their
first version from their own row.

Revision ID: 0011_versions
Revises: 0010_document_pages
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_versions"
down_revision = "0010_document_pages"
branch_labels = None
depends_on = None

CONTENT = ("kind", "mime_type", "size_bytes", "sha256", "storage_key", "thumbnail_key", "duration_seconds", "width",
           "height", "page_count", "video_codec", "audio_codec", "original_name")


def upgrade():
    op.create_table(
        "media_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("mime_type", sa.String(127), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(512), nullable=False),
        sa.Column("thumbnail_key", sa.String(512)),
        sa.Column("duration_seconds", sa.Float()),
        sa.Column("width", sa.Integer()),
        sa.Column("height", sa.Integer()),
        sa.Column("page_count", sa.Integer()),
        sa.Column("video_codec", sa.String(32)),
        sa.Column("audio_codec", sa.String(32)),
        sa.Column("uploaded_by_id", sa.Integer()),
        sa.Column("restored_from", sa.Integer()),
        sa.Column("failure_reason", sa.Text()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("current_since", sa.DateTime()),
        sa.CheckConstraint("status in ('processing', 'ready', 'failed')", name=op.f("ck_media_versions_status")),
        sa.ForeignKeyConstraint(["media_id"], ["media_files.id"], name=op.f("fk_media_versions_media_id_media_files"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_media_versions_owner_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_media_versions_uploaded_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_versions")),
        sa.UniqueConstraint("media_id", "number", name="uq_media_versions_media_number"),
    )
    op.create_index("ix_media_versions_storage_key", "media_versions", ["storage_key"])
    op.create_index("ix_media_versions_thumbnail_key", "media_versions", ["thumbnail_key"])
    columns = ", ".join(CONTENT)
    op.execute(f"INSERT INTO media_versions (media_id, owner_id, number, status, {columns}, uploaded_by_id, "
               f"created_at, current_since) SELECT id, owner_id, 1, 'ready', {columns}, owner_id, created_at, ready_at "
               "FROM media_files WHERE ready_at IS NOT NULL")


def downgrade():
    op.drop_index("ix_media_versions_thumbnail_key", table_name="media_versions")
    op.drop_index("ix_media_versions_storage_key", table_name="media_versions")
    op.drop_table("media_versions")
