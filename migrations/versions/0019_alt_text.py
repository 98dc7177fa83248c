"""Alt text of images: what a screen reader says instead of the picture ("" until someone writes it).

Revision ID: 0019_alt_text
Revises: 0017_search_descriptions
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_alt_text"
down_revision = "0017_search_descriptions"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("media_files", sa.Column("alt_text", sa.String(250), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("media_files") as batch:
        batch.drop_column("alt_text")
