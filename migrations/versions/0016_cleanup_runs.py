"""Admin cleanups: each dry run and its exact list of files, and (once run) its audit record.

Revision ID: 0016_cleanup_runs
Revises: 0015_storage_analytics
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_cleanup_runs"
down_revision = "0015_storage_analytics"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cleanup_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("actor_name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("operation_id", sa.Integer(), sa.ForeignKey("operations.id", ondelete="SET NULL")),
        sa.Column("removed", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("bytes_freed", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("spared", sa.JSON(), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("finished_at", sa.DateTime()),
        sa.CheckConstraint("kind in ('purge-trash', 'orphans')", name="kind"),
        sa.CheckConstraint("status in ('dry-run', 'running', 'finished', 'cancelled', 'failed')", name="status"),
    )
    op.create_index("ix_cleanup_runs_started", "cleanup_runs", ["started_at", "id"])
    op.create_table(
        "cleanup_items",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("cleanup_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("media_id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("storage_key", sa.String(512), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),  # orphaned since, or trashed at
    )
    op.create_index("ix_cleanup_items_run_owner", "cleanup_items", ["run_id", "owner_id"])


def downgrade():
    op.drop_table("cleanup_items")
    op.drop_table("cleanup_runs")
