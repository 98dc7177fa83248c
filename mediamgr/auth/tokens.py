"""Personal access tokens: `Authorization: Bearer mm_…` signs a script or a tus client in for one
request, without cookies (so without CSRF tokens: a browser never sends this header on its own).
A token can upload (plain and tus) and read the library; everything else needs a signed-in browser.
"""
import secrets

import redis
import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from flask import abort, current_app, g, request
from flask_login import current_user

from ..extensions import csrf, db, redis_connection
from ..scoping import owned_by
from ..timeutil import utcnow
from .models import ApiToken, token_digest

PREFIX = "mm_"
MAX_TOKENS = 50  # per user
MAX_NAME_LENGTH = 80
# What a token may do: upload (new files or new content for one), follow the processing, and read (GET) the library.
TOKEN_ENDPOINTS = {"upload.upload_files", "upload.replace_file", "upload.tus_create", "upload.tus_patch", "upload.tus_upload",
                   "upload.tus_delete", "upload.tus_options"}
READ_ONLY_ENDPOINTS = {"library.index", "library.grid", "library.details", "library.thumbnail", "library.trash_index",
                       "library.suggest_tags", "operations.active", "operations.show"}
TOUCH_EVERY_SECONDS = 60
TOKENS_DO_NOT_LINK = ("An API token uploads into the library; it cannot add files to a course. "
                      "Link them from the course editor.")
HANDOVER_SECONDS = 300


class TokenRefused(ValueError):
    """A token that cannot be made; the message is for the user."""


def create_token(user, name):
    """A new token for `user` named `name`; returns (row, the token itself: shown once, never again)."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenRefused("Give the token a name, such as the script or computer that will use it.")
    if len(name) > MAX_NAME_LENGTH:
        raise TokenRefused(f"Use at most {MAX_NAME_LENGTH} characters for the name.")
    count = db.session.scalar(sa.select(sa.func.count()).select_from(owned_by(ApiToken, user.id).subquery()))
    if count >= MAX_TOKENS:
        raise TokenRefused(f"You have {MAX_TOKENS} tokens; revoke one you no longer use first.")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(owner_id=user.id, name=name, token_hash=token_digest(secret), prefix=secret[:10])
    db.session.add(row)
    db.session.commit()
    return row, secret


def _handover_key(user, nonce):
    return f"{current_app.config['REDIS_NAMESPACE']}:new-token:{user.id}:{nonce}"


def hand_over_new_token(user, token, secret):
    """Keep a new token's secret for the page that shows it once, after a redirect (so a reload does
    not make another token): in Redis for five minutes, under a random name; None if Redis is down."""
    nonce = secrets.token_urlsafe(16)
    try:
        redis_connection.client.set(_handover_key(user, nonce), f"{token.id}:{secret}", ex=HANDOVER_SECONDS)
    except redis.RedisError:
        return None
    return nonce


def take_new_token(user, nonce):
    """(token row, secret) for the page that shows it, once; None after that, or for someone else."""
    if not nonce or len(nonce) > 40:
        return None
    try:
        kept = redis_connection.client.getdel(_handover_key(user, nonce))
    except redis.RedisError:
        return None
    if not kept:
        return None
    token_id, _, secret = kept.decode().partition(":")
    token = db.session.scalar(owned_by(ApiToken, user.id).where(ApiToken.id == int(token_id)))
    return (token, secret) if token else None


def revoke_all_tokens(user_id):
    """Revoke every token of the user (with a password change, or an admin's sign-out everywhere)."""
    revoked = db.session.execute(sa.delete(ApiToken).where(ApiToken.id.in_(
        owned_by(ApiToken, user_id).with_only_columns(ApiToken.id)))).rowcount
    db.session.commit()
    return revoked


def tokens_of(user):
    return db.session.scalars(owned_by(ApiToken, user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()


def bearer_token():
    """The token of an `Authorization: Bearer …` header, or None."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _user_for(secret):
    token = db.session.scalar(sa.select(ApiToken).options(joinedload(ApiToken.owner))
                              .where(ApiToken.token_hash == token_digest(secret)))
    if token is None:
        return None
    user = token.owner
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > TOUCH_EVERY_SECONDS:
        token.last_used_at = now
        db.session.commit()
    return user


def authenticate_request():
    """Before every request: a bearer token signs its user in for this request only (never the
    session), and only for what tokens may do; other requests get the CSRF check."""
    secret = bearer_token()
    if secret is None:
        if current_app.config["WTF_CSRF_ENABLED"]:
            csrf.protect(apply_exemptions=True)
        return None
    user = _user_for(secret) if len(secret) < 200 else None
    if user is None:
        abort(401, "This API token is not valid (revoked, or mistyped). Make a new one on your account page.")
    endpoint = request.endpoint or ""
    if endpoint not in TOKEN_ENDPOINTS and not (endpoint in READ_ONLY_ENDPOINTS and request.method in ("GET", "HEAD")):
        abort(403, "API tokens can upload files and read the library. Sign in with a browser for everything else.")
    g._login_user = user  # flask-login's per-request user: the session is never read or written
    g.signed_in_with_token = True
    return None


def signed_in_with_token():
    return bool(g.get("signed_in_with_token")) and current_user.is_authenticated
