"""Courses, chapters and chapter items (links to library files), with unique positions.

Revision ID: 0007_courses
Revises: 0006_resumable_uploads
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_courses"
down_revision = "0006_resumable_uploads"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_courses_owner_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
    )
    op.create_index("ix_courses_owner_updated", "courses", ["owner_id", "updated_at"])
    op.create_table(
        "chapters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name=op.f("fk_chapters_course_id_courses"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapters")),
        sa.UniqueConstraint("course_id", "position", name="uq_chapters_course_position"),
    )
    op.create_table(
        "chapter_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapters.id"], name=op.f("fk_chapter_items_chapter_id_chapters"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["media_id"], ["media_files.id"], name=op.f("fk_chapter_items_media_id_media_files"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapter_items")),
        sa.UniqueConstraint("chapter_id", "position", name="uq_chapter_items_chapter_position"),
    )
    op.create_index("ix_chapter_items_media", "chapter_items", ["media_id"])


def downgrade():
    op.drop_table("chapter_items")
    op.drop_table("chapters")
    op.drop_index("ix_courses_owner_updated", table_name="courses")
    op.drop_table("courses")
