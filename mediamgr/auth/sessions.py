"""Revocable sessions: a signed-in browser is a row, and its session and remember cookies carry the
row's random token (in flask-login's user id, "<user id>:<token>"). A cookie whose row is gone signs
nobody in, so logout, a password change and "sign out everywhere" end every copy of it at once.

A session without "Remember me" ends after SESSION_IDLE_HOURS without a request; a remembered one
lasts REMEMBER_DAYS from sign-in.
"""
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, request

from ..extensions import db
from ..timeutil import utcnow
from .models import User, UserSession, token_digest

TOUCH_EVERY = timedelta(minutes=5)  # how often a busy session's last-seen time is written


def _lifetime(remember):
    config = current_app.config
    return timedelta(days=config["REMEMBER_DAYS"]) if remember else timedelta(hours=config["SESSION_IDLE_HOURS"])


def start_session(user, remember=False):
    """A new session for `user`; returns its token and makes it the user's current one."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(user_id=user.id, token_hash=token_digest(token), remember=remember,
                               user_agent=(request.user_agent.string if has_request_context() else "")[:255],
                               created_at=now, last_seen_at=now, expires_at=now + _lifetime(remember)))
    db.session.commit()
    user.session_token = token
    return token


def load_session_user(user_id):
    """flask-login's user loader: the user of a live session named "<user id>:<token>", else None."""
    raw_id, _, token = str(user_id).partition(":")
    if not raw_id.isascii() or not raw_id.isdigit() or not token or len(token) > 100:
        return None
    found = db.session.execute(sa.select(User, UserSession).join(UserSession, UserSession.user_id == User.id)
                               .where(UserSession.token_hash == token_digest(token), User.id == int(raw_id))).first()
    if found is None:
        return None
    user, session_row = found
    now = utcnow()
    if session_row.expires_at <= now:
        db.session.delete(session_row)
        db.session.commit()
        return None
    if now - session_row.last_seen_at >= TOUCH_EVERY:
        session_row.last_seen_at = now
        if not session_row.remember:
            session_row.expires_at = now + _lifetime(False)
        db.session.commit()
    user.session_token = token
    return user


def session_is_live(user):
    """Whether the session `user` was loaded from still exists (an open websocket asks now and then)."""
    if not user.session_token:
        return False
    return db.session.scalar(sa.select(UserSession.id).where(UserSession.token_hash == token_digest(user.session_token),
                                                             UserSession.expires_at > utcnow())) is not None


def end_session(user):
    """End the session this request belongs to (logout)."""
    if user.session_token:
        db.session.execute(sa.delete(UserSession).where(UserSession.token_hash == token_digest(user.session_token)))
        db.session.commit()


def end_other_sessions(user):
    """End every session of `user` but this request's (after a password change, or on request)."""
    query = sa.delete(UserSession).where(UserSession.user_id == user.id)
    if user.session_token:
        query = query.where(UserSession.token_hash != token_digest(user.session_token))
    ended = db.session.execute(query).rowcount
    db.session.commit()
    return ended


def end_all_sessions(user_id):
    """Sign the user out everywhere (an admin's "Sign out everywhere")."""
    ended = db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user_id)).rowcount
    db.session.commit()
    return ended


def sessions_of(user):
    """The user's live sessions, the most recently used first, each marked when it is this one."""
    rows = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id,
                                                           UserSession.expires_at > utcnow())
                              .order_by(UserSession.last_seen_at.desc())).all()
    current = token_digest(user.session_token) if user.session_token else None
    return [(row, row.token_hash == current) for row in rows]


def purge_expired_sessions():
    """Maintenance: drop the rows of sessions that ended by themselves."""
    ended = db.session.execute(sa.delete(UserSession).where(UserSession.expires_at <= utcnow())).rowcount
    db.session.commit()
    return ended
