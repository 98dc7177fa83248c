"""Captions: one WebVTT track per file and language, with the plain text of its cues for search.

Revision ID: 0021_captions
Revises: 0020_owner_search_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_captions"
down_revision = "0020_owner_search_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "captions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("media_id", sa.Integer(), sa.ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("vtt", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("cue_count", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("media_id", "language", name="uq_captions_media_language"),
    )
    op.create_index("ix_captions_owner_media", "captions", ["owner_id", "media_id"])


def downgrade():
    op.drop_table("captions")
