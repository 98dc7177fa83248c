"""Chapter markers of a video, and the quality report of a video or audio file."""
from ..extensions import db
from ..timeutil import utcnow

MAX_MARKER_TITLE = 120


class ChapterMarker(db.Model):
    """A named point in a video: proposed from a scene change ("detected"), or changed or added by
    the instructor ("edited", "added": a new detection after the content changes keeps those)."""

    __tablename__ = "chapter_markers"

    id = db.Column(db.Integer, primary_key=True)
    media_id = db.Column(db.Integer, db.ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    seconds = db.Column(db.Float, nullable=False)
    title = db.Column(db.String(MAX_MARKER_TITLE), nullable=False)
    source = db.Column(db.String(16), nullable=False, default="detected")
    thumbnail_key = db.Column(db.String(512))  # a frame at the marker (rendition storage, content-addressed)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        db.CheckConstraint("source in ('detected', 'edited', 'added')", name="marker_source"),
        db.Index("ix_chapter_markers_media_seconds", "media_id", "seconds"),
        db.Index("ix_chapter_markers_owner", "owner_id"),
    )


class QualityReport(db.Model):
    """What the quality job found in a file's current content (video.quality.QualityReport as JSON),
    its sparkline image, and the state of the video jobs that read the file (analysis: quality and
    chapters)."""

    __tablename__ = "quality_reports"

    media_id = db.Column(db.Integer, db.ForeignKey("media_files.id", ondelete="CASCADE"), primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)  # the content it was made from
    status = db.Column(db.String(16), nullable=False, default="queued")
    report = db.Column(db.JSON)
    sparkline_key = db.Column(db.String(512))
    # The storyboard of a video: {"vtt": a WebVTT thumbnails track naming its sprites, "sprites": {name: key}}.
    storyboard = db.Column(db.JSON)
    failure_reason = db.Column(db.Text)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        db.CheckConstraint("status in ('queued', 'running', 'ready', 'failed')", name="quality_status"),
        db.Index("ix_quality_reports_owner", "owner_id"),
    )
