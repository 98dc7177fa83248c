"""Resumable (tus) uploads under way: how many bytes have arrived, kept in the database so that a
restarted web process resumes every upload at the right offset."""
from ..extensions import db
from ..timeutil import utcnow


class ResumableUpload(db.Model):
    __tablename__ = "resumable_uploads"

    id = db.Column(db.String(32), primary_key=True)  # random; the upload URL's last part
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    length = db.Column(db.BigInteger, nullable=False)
    offset = db.Column(db.BigInteger, nullable=False, default=0)
    filename = db.Column(db.String(255), nullable=False)
    metadata_header = db.Column(db.Text, nullable=False, default="")  # Upload-Metadata, echoed on HEAD
    checked = db.Column(db.Boolean, nullable=False, default=False)  # first bytes sniffed and accepted
    operation_id = db.Column(db.Integer, db.ForeignKey("operations.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False)
    completed_at = db.Column(db.DateTime)

    __table_args__ = (
        db.Index("ix_resumable_uploads_owner_created", "owner_id", "created_at"),
        db.Index("ix_resumable_uploads_expires", "expires_at"),
    )

    @property
    def is_complete(self):
        return self.completed_at is not None
