"""Usage tracking: each file's number of course links kept on its row (for the "Used in N" badge,
the Used/Unused filter and the usage sort), and the links a forced trash removed (to put back on
restore).

Revision ID: 0008_usage_tracking
Revises: 0007_courses
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_usage_tracking"
down_revision = "0007_courses"
branch_labels = None
depends_on = None

IN_LIBRARY = sa.text("deleted_at IS NULL")
USED_IN_LIBRARY = sa.text("deleted_at IS NULL AND usage_count > 0")


def upgrade():
    with op.batch_alter_table("media_files") as batch:
        batch.add_column(sa.Column("usage_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE media_files SET usage_count = (SELECT count(*) FROM chapter_items "
               "WHERE chapter_items.media_id = media_files.id)")
    with op.batch_alter_table("media_files") as batch:
        batch.create_index("ix_media_owner_usage", ["owner_id", "usage_count", "id"],
                           sqlite_where=IN_LIBRARY, postgresql_where=IN_LIBRARY)
        batch.create_index("ix_media_owner_used_created", ["owner_id", "created_at", "id"],
                           sqlite_where=USED_IN_LIBRARY, postgresql_where=USED_IN_LIBRARY)
    op.create_table(
        "removed_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("chapter_id", sa.Integer(), nullable=True),
        sa.Column("course_title", sa.String(length=200), nullable=False),
        sa.Column("chapter_title", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["media_id"], ["media_files.id"], name=op.f("fk_removed_links_media_id_media_files"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapters.id"], name=op.f("fk_removed_links_chapter_id_chapters"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_removed_links")),
    )
    op.create_index("ix_removed_links_media", "removed_links", ["media_id"])


def downgrade():
    op.drop_index("ix_removed_links_media", table_name="removed_links")
    op.drop_table("removed_links")
    with op.batch_alter_table("media_files") as batch:
        batch.drop_index("ix_media_owner_used_created")
        batch.drop_index("ix_media_owner_usage")
        batch.drop_column("usage_count")
