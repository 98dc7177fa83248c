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
    # Bulk work: items done so far (a position in operation_items), a cancel request, the
    # worker's last sign of life, and the file it is working on.
    checkpoint = db.Column(db.BigInteger, nullable=False, default=0, server_default="0")
    cancel_requested = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    heartbeat_at = db.Column(db.DateTime)
    current_item = db.Column(db.String(255))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    started_at = db.Column(db.DateTime)
    finished_at = db.Column(db.DateTime)

    media = db.relationship("MediaFile")

    __table_args__ = (
        db.CheckConstraint(
            "status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="status"),
        db.Index("ix_operations_owner_status_created", "owner_id", "status", "created_at"),
        db.Index("ix_operations_media", "media_id"),
        db.Index("ix_operations_status_heartbeat", "status", "heartbeat_at"),
    )

    @property
    def is_finished(self):
        return self.status in FINISHED


class OperationItem(db.Model):
    """One file of a bulk operation, in the order the work goes; `error` says why it failed."""

    __tablename__ = "operation_items"

    operation_id = db.Column(db.Integer, db.ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True)
    position = db.Column(db.Integer, primary_key=True, autoincrement=False)
    media_id = db.Column(db.Integer, nullable=False)  # no foreign key: the list outlives deleted files
    media_name = db.Column(db.String(255))
    error = db.Column(db.Text)
