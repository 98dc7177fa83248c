"""Captions: one WebVTT track per file and language, with the lower-cased text of its cues for search,
found through a trigram index as the library's own search text is: SQLite an FTS5 table kept by
triggers (caption_search), PostgreSQL a pg_trgm GIN index keyed by owner (btree_gin, from 0020).

Revision ID: 0021_captions
Revises: 0020_owner_search_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_captions"
down_revision = "0020_owner_search_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "captions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("media_id", sa.Integer(), sa.ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("vtt", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("cue_count", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("media_id", "language", name="uq_captions_media_language"),
    )
    op.create_index("ix_captions_owner_media", "captions", ["owner_id", "media_id"])
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
    else:
        trigram = op.get_bind().scalar(sa.text(  # installed by 0020, in a schema of its own choosing
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"))
        op.execute(f'CREATE INDEX ix_captions_owner_search_trgm ON captions USING gin (owner_id, search_text "{trigram}".gin_trgm_ops)')


SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE caption_search USING fts5(search_text, content='captions', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER caption_search_insert AFTER INSERT ON captions BEGIN "
    "INSERT INTO caption_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER caption_search_delete AFTER DELETE ON captions BEGIN "
    "INSERT INTO caption_search(caption_search, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER caption_search_update AFTER UPDATE OF search_text ON captions BEGIN "
    "INSERT INTO caption_search(caption_search, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO caption_search(rowid, search_text) VALUES (new.id, new.search_text); END",
]


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("caption_search_insert", "caption_search_delete", "caption_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS caption_search")
    op.drop_table("captions")
