"""A record per background operation (an upload's processing, later bulk work): what the
progress panel shows and what a reconnecting websocket replays."""
from ..extensions import db
from ..timeutil import utcnow

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")


class Operation(db.Model):
    __tablename__ = "operations"

    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(32), nullable=False)
    title = db.Column(db.String(255), nullable=False)
    status = db.Column(db.String(16), nullable=False, default="queued")
    stage = db.Column(db.String(32), nullable=False, default="queued")
    total = db.Column(db.BigInteger, nullable=False, default=0)
    processed = db.Column(db.BigInteger, nullable=False, default=0)
    failed = db.Column(db.Integer, nullable=False, default=0)
    error = db.Column(db.Text)
    media_id = db.Column(db.Integer, db.ForeignKey("media_files.id", ondelete="SET NULL"))
    job_id = db.Column(db.String(64))
    details = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    started_at = db.Column(db.DateTime)
    finished_at = db.Column(db.DateTime)

    media = db.relationship("MediaFile")

    __table_args__ = (
        db.CheckConstraint(
            "status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="status"),
        db.Index("ix_operations_owner_status_created", "owner_id", "status", "created_at"),
        db.Index("ix_operations_media", "media_id"),
    )

    @property
    def is_finished(self):
        return self.status in FINISHED
