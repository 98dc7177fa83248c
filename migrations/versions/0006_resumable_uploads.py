"""Resumable (tus 1.0) uploads: one row per upload under way, with its persisted offset.

Revision ID: 0006_resumable_uploads
Revises: 0005_bulk_operations
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_resumable_uploads"
down_revision = "0005_bulk_operations"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "resumable_uploads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("metadata_header", sa.Text(), nullable=False),
        sa.Column("checked", sa.Boolean(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_resumable_uploads_owner_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"],
                                name=op.f("fk_resumable_uploads_operation_id_operations"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resumable_uploads")),
    )
    with op.batch_alter_table("resumable_uploads") as batch:
        batch.create_index("ix_resumable_uploads_owner_created", ["owner_id", "created_at"])
        batch.create_index("ix_resumable_uploads_expires", ["expires_at"])


def downgrade():
    op.drop_table("resumable_uploads")
