"""An upload whose content the library held already points at that file (duplicate_of_id) until the
user chooses "Keep both" or "Use existing".

Revision ID: 0013_duplicates
Revises: 0012_trash_purge_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_duplicates"
down_revision = "0012_trash_purge_index"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: SQLite's batch mode would rebuild the table and drop its search triggers, so
    # the foreign key (SET NULL when the file repeated is deleted) exists on PostgreSQL only; on
    # SQLite the delete rule clears it (library.trash.delete_files).
    op.add_column("media_files", sa.Column("duplicate_of_id", sa.Integer()))
    # Deleting files looks up the rows that point at them (the foreign key's SET NULL, and the delete
    # rule on SQLite): without an index, a scan of the table per deleted file.
    where = sa.text("duplicate_of_id IS NOT NULL")
    op.create_index("ix_media_duplicate_of", "media_files", ["duplicate_of_id"], sqlite_where=where,
                    postgresql_where=where)
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key("fk_media_files_duplicate_of_id_media_files", "media_files", "media_files",
                              ["duplicate_of_id"], ["id"], ondelete="SET NULL")


def downgrade():
    op.drop_index("ix_media_duplicate_of", table_name="media_files")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_media_files_duplicate_of_id_media_files", "media_files", type_="foreignkey")
    with op.batch_alter_table("media_files") as batch:
        batch.drop_column("duplicate_of_id")
