"""The one way to scope a query of users' objects: to the signed-in user, or to everyone for an admin.

A row that exists but belongs to someone else answers 404, exactly like a row that does not exist.
Nothing outside this module asks whether a user is an admin to decide what a query returns (a test
checks it).
"""
from flask import abort
from flask_login import current_user

from .extensions import db


def sees_everyone(user=None):
    """Whether `user` (default: the signed-in user) may see every user's objects."""
    return (user or current_user).is_admin


def admins_only():
    """404 for anyone but an admin: an admin page does not exist for the others."""
    if not (current_user.is_authenticated and sees_everyone()):
        abort(404)


def scoped(query, owner_column, user=None):
    """`query` limited to the rows whose `owner_column` is `user`'s, or not at all for an admin.
    For queries that reach the owner through a join (a chapter through its course)."""
    user = user or current_user
    return query if sees_everyone(user) else query.where(owner_column == user.id)


def owned(model, user=None):
    """A SELECT of `model` limited to what `user` (default: the signed-in user) may see."""
    return scoped(db.select(model), model.owner_id, user)


def scoped_to(query, owner_column, owner_id):
    """`query` limited to one owner's rows, whoever asks: what a course may link (its owner's files),
    the chapter an upload goes into (the uploader's own), the uploads panel (the user's own work)."""
    return query.where(owner_column == owner_id)


def owned_by(model, owner_id):
    return scoped_to(db.select(model), model.owner_id, owner_id)


def first_or_404(query):
    """The one row a scoped query finds, or 404."""
    row = db.session.scalar(query)
    if row is None:
        abort(404)
    return row


def get_owned_or_404(model, object_id, user=None):
    return first_or_404(owned(model, user).where(model.id == object_id))
