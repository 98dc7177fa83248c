"""A caption track: one per file and language, its WebVTT text and the plain text of its cues."""
from ..extensions import db
from ..timeutil import utcnow

MAX_LABEL_LENGTH = 64


class Caption(db.Model):
    __tablename__ = "captions"

    id = db.Column(db.Integer, primary_key=True)
    media_id = db.Column(db.Integer, db.ForeignKey("media_files.id", ondelete="CASCADE"), nullable=False)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    language = db.Column(db.String(16), nullable=False)  # a BCP 47 tag (captions.languages)
    label = db.Column(db.String(MAX_LABEL_LENGTH), nullable=False)  # what the player's menu shows
    vtt = db.Column(db.Text, nullable=False)  # the WebVTT document served to the player
    # The cues' text, lower-cased, a line each: what library search matches (captions.search).
    search_text = db.Column(db.Text, nullable=False, default="")
    cue_count = db.Column(db.Integer, nullable=False, default=0)
    source_name = db.Column(db.String(255), nullable=False, default="")  # the uploaded file's name
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    media = db.relationship("MediaFile")

    __table_args__ = (
        db.UniqueConstraint("media_id", "language", name="uq_captions_media_language"),
        db.Index("ix_captions_owner_media", "owner_id", "media_id"),
    )
