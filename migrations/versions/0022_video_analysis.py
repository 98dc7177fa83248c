"""Video analysis: chapter markers, quality reports (with a video's storyboard), and the quality score and "needs attention" flag
on each file (the card's badge and the library filter read them from the row).

Revision ID: 0022_video_analysis
Revises: 0021_captions
"""
import sqlalchemy as sa
from alembic import op

revision = "0022_video_analysis"
down_revision = "0021_captions"
branch_labels = None
depends_on = None

NEEDS_ATTENTION_IN_LIBRARY = "deleted_at IS NULL AND needs_attention"


def upgrade():
    op.create_table(
        "chapter_markers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("media_id", sa.Integer(), sa.ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("thumbnail_key", sa.String(512)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("source in ('detected', 'edited', 'added')", name="marker_source"),
    )
    op.create_index("ix_chapter_markers_media_seconds", "chapter_markers", ["media_id", "seconds"])
    op.create_index("ix_chapter_markers_owner", "chapter_markers", ["owner_id"])
    op.create_table(
        "quality_reports",
        sa.Column("media_id", sa.Integer(), sa.ForeignKey("media_files.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("report", sa.JSON()),
        sa.Column("sparkline_key", sa.String(512)),
        sa.Column("storyboard", sa.JSON()),
        sa.Column("failure_reason", sa.Text()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status in ('queued', 'running', 'ready', 'failed')", name="quality_status"),
    )
    op.create_index("ix_quality_reports_owner", "quality_reports", ["owner_id"])
    op.add_column("media_files", sa.Column("quality_score", sa.Integer()))
    op.add_column("media_files", sa.Column("needs_attention", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_media_owner_attention_created", "media_files", ["owner_id", "created_at", "id"],
                    sqlite_where=sa.text(NEEDS_ATTENTION_IN_LIBRARY), postgresql_where=sa.text(NEEDS_ATTENTION_IN_LIBRARY))


def downgrade():
    op.drop_index("ix_media_owner_attention_created", table_name="media_files")
    op.drop_column("media_files", "needs_attention")
    op.drop_column("media_files", "quality_score")
    op.drop_table("quality_reports")
    op.drop_table("chapter_markers")
