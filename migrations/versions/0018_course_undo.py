"""The course editor's Undo: a snapshot of what a removal took away (items, a chapter, a course) or
where a move took items from, kept for a while.

Revision ID: 0018_course_undo
Revises: 0019_alt_text
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_course_undo"
down_revision = "0019_alt_text"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "course_undos",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind in ('remove', 'move', 'chapter', 'course')", name="kind"),
        sqlite_autoincrement=True,  # ids are never reused: an old toast's Undo cannot undo a later edit
    )
    op.create_index("ix_course_undos_created", "course_undos", ["created_at"])


def downgrade():
    op.drop_table("course_undos")
