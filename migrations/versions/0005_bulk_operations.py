"""Bulk operations: the files an operation works through (its checkpointed list and per-file
failures), the operation's checkpoint, cancel flag and heartbeat, and the durable list of stored
objects waiting to be removed once the rows that used them are gone.

Revision ID: 0005_bulk_operations
Revises: 0004_tag_filter_covering_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_bulk_operations"
down_revision = "0004_tag_filter_covering_index"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("checkpoint", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("current_item", sa.String(length=255), nullable=True))
        batch.create_index("ix_operations_status_heartbeat", ["status", "heartbeat_at"])
    op.create_table(
        "operation_items",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("media_name", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"], name=op.f("fk_operation_items_operation_id_operations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("operation_id", "position", name=op.f("pk_operation_items")),
    )
    op.create_table(
        "pending_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_deletions")),
    )


def downgrade():
    op.drop_table("pending_deletions")
    op.drop_table("operation_items")
    with op.batch_alter_table("operations") as batch:
        batch.drop_index("ix_operations_status_heartbeat")
        batch.drop_column("current_item")
        batch.drop_column("heartbeat_at")
        batch.drop_column("cancel_requested")
        batch.drop_column("checkpoint")
