"""Accounts: instructors own media; admins see everyone's. Each signed-in browser is a session row
(revocable: logout, a password change or "sign out everywhere" deletes it), and scripts use personal
access tokens. Only hashes of session and API tokens are stored."""
import hashlib

from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from ..captions.models import Caption
from ..extensions import db
from ..scoping import scoped_to
from ..timeutil import utcnow

ROLES = ("instructor", "admin")


def token_digest(token):
    """What is stored of a session or API token: its SHA-256 (the tokens are long random strings)."""
    return hashlib.sha256(token.encode()).hexdigest()


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    display_name = db.Column(db.String(120), nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="instructor")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    quota_bytes = db.Column(db.BigInteger)  # the bytes this user may keep stored; None: unlimited (quotas.py)

    # Read with the user (no query of its own): search asks captions only of a user who has some.
    has_captions = db.column_property(scoped_to(db.exists(), Caption.owner_id, id))

    __table_args__ = (db.CheckConstraint("role in ('instructor', 'admin')", name="role"),)

    # The session this request belongs to (set when it is loaded or started): flask-login keeps
    # get_id() in the session cookie and the remember cookie, so every copy of them names it.
    session_token = None

    @property
    def is_admin(self):
        return self.role == "admin"

    def get_id(self):
        if not self.session_token:
            raise RuntimeError("a user signs in through auth.sessions.start_session")
        return f"{self.id}:{self.session_token}"

    def set_password(self, password):
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)


class UserSession(db.Model):
    """One signed-in browser. Deleting the row ends it, whatever copies of its cookies exist."""

    __tablename__ = "user_sessions"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    remember = db.Column(db.Boolean, nullable=False, default=False)
    user_agent = db.Column(db.String(255), nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_seen_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False)

    user = db.relationship("User")

    __table_args__ = (db.Index("ix_user_sessions_user", "user_id"), db.Index("ix_user_sessions_expires", "expires_at"))


class ApiToken(db.Model):
    """A personal access token: `Authorization: Bearer …` for scripts and tus clients (uploads and
    reading the library); shown once when made, stored as its hash."""

    __tablename__ = "api_tokens"

    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    name = db.Column(db.String(80), nullable=False)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    prefix = db.Column(db.String(12), nullable=False)  # the first characters, to tell tokens apart
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_used_at = db.Column(db.DateTime)

    owner = db.relationship("User")

    __table_args__ = (db.Index("ix_api_tokens_owner", "owner_id"),)
