"""The admin's list of users, each with their sessions and "Sign out everywhere"."""
import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import login_required

from ..auth.models import User, UserSession
from ..auth.sessions import end_all_sessions
from ..auth.tokens import revoke_all_tokens
from ..extensions import db
from ..scoping import admins_only, first_or_404
from ..timeutil import utcnow
from . import bp


@bp.before_request
@login_required
def _admins_only():
    admins_only()


@bp.get("/users")
def users():
    live = sa.and_(UserSession.user_id == User.id, UserSession.expires_at > utcnow())
    rows = db.session.execute(
        sa.select(User, sa.func.count(UserSession.id), sa.func.max(UserSession.last_seen_at))
        .outerjoin(UserSession, live).group_by(User.id).order_by(User.display_name, User.id)).all()
    return render_template("admin/users.html", rows=rows)


@bp.post("/users/<int:user_id>/sign-out")
def sign_out_everywhere(user_id):
    """End every session of the user, on every device, and revoke their API tokens: what to do when an
    account may be in someone else's hands."""
    user = first_or_404(sa.select(User).where(User.id == user_id))
    ended = end_all_sessions(user.id)
    revoked = revoke_all_tokens(user.id)
    flash(f"{user.display_name} is signed out everywhere ({ended} session{'s' if ended != 1 else ''} ended, "
          f"{revoked} API token{'s' if revoked != 1 else ''} revoked).", "success")
    return redirect(url_for("admin.users"))
