"""The one way to query a user's objects: scoped to the signed-in user, or to everyone for an admin.

A row that exists but belongs to someone else answers 404, exactly like a row that does not exist.
"""
from flask import abort
from flask_login import current_user

from .extensions import db


def owned(model, user=None):
    """A SELECT of `model` limited to what `user` (default: the signed-in user) may see."""
    user = user or current_user
    query = db.select(model)
    if not user.is_admin:
        query = query.where(model.owner_id == user.id)
    return query


def get_owned_or_404(model, object_id, user=None):
    row = db.session.scalar(owned(model, user).where(model.id == object_id))
    if row is None:
        abort(404)
    return row
