"""Search also matches a file's category and description: the search text of every file that has
either is rebuilt (SQLite's trigram index follows through its trigger). On PostgreSQL the covering
btree over the search text goes (a btree entry holds at most 2,704 bytes, less than a long
description; pg_trgm's GIN index serves search). Indexes for the category filter and the list
view's type and duration sorts.

Revision ID: 0017_search_descriptions
Revises: 0016_cleanup_runs
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_search_descriptions"
down_revision = "0016_cleanup_runs"
branch_labels = None
depends_on = None

IN_LIBRARY = sa.text("deleted_at IS NULL")
BATCH = 2000
INDEXES = {
    "ix_media_owner_category": ["owner_id", "category", "created_at", "id"],
    "ix_media_owner_kind_id": ["owner_id", "kind", "id"],
    "ix_media_owner_duration": ["owner_id", sa.text("coalesce(duration_seconds, 0)"), "id"],
}

media = sa.table("media_files", sa.column("id"), sa.column("name"), sa.column("category"), sa.column("description"),
                 sa.column("search_text"))
media_tags = sa.table("media_tags", sa.column("media_id"), sa.column("tag_id"))
tags = sa.table("tags", sa.column("id"), sa.column("name"))


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_media_owner_search")
    for name, columns in INDEXES.items():
        op.create_index(name, "media_files", columns, sqlite_where=IN_LIBRARY, postgresql_where=IN_LIBRARY)
    _rebuild_search_text(with_details=True)


def downgrade():
    _rebuild_search_text(with_details=False)
    for name in INDEXES:
        op.drop_index(name, table_name="media_files")
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_media_owner_search", "media_files", ["owner_id", "created_at", "id", "search_text"],
                        postgresql_where=IN_LIBRARY)


def _search_text(name, tag_names, category, description):
    """library.models.search_text_of as of this revision."""
    return " ".join([name.lower(), *tag_names, *(" ".join(part.lower().split()) for part in (category, description) if part)])


def _rebuild_search_text(with_details):
    """The search text of the files that have a category or a description, in batches by id."""
    bind = op.get_bind()
    described = sa.or_(media.c.category != "", media.c.description != "")
    last = 0
    while True:
        rows = bind.execute(sa.select(media.c.id, media.c.name, media.c.category, media.c.description)
                            .where(described, media.c.id > last).order_by(media.c.id).limit(BATCH)).all()
        if not rows:
            return
        names = {row.id: [] for row in rows}
        for media_id, tag_name in bind.execute(
                sa.select(media_tags.c.media_id, tags.c.name).join(tags, tags.c.id == media_tags.c.tag_id)
                .where(media_tags.c.media_id.in_(list(names))).order_by(tags.c.name)):
            names[media_id].append(tag_name)
        bind.execute(sa.update(media).where(media.c.id == sa.bindparam("row_id"))
                     .values(search_text=sa.bindparam("text")),
                     [{"row_id": row.id, "text": _search_text(row.name, names[row.id], row.category if with_details else "",
                                                             row.description if with_details else "")} for row in rows])
        last = rows[-1].id
