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
    # Not a batch (which on SQLite copies the table): a copy would lose the expression indexes and the
    # search and summary triggers of media_files. SQLite drops a plain column in place.
    op.drop_column("media_files", "alt_text")
