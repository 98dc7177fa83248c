"""Storage quotas: the bytes a user may keep stored (NULL: unlimited).

Revision ID: 0014_quotas
Revises: 0013_duplicates
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_quotas"
down_revision = "0013_duplicates"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("quota_bytes", sa.BigInteger()))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("quota_bytes")
