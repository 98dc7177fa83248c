"""/admin: the users (sessions, "Sign out everywhere", storage quotas), storage cleanups with their dry
runs and audit records, and a link to the job queues (rq-dashboard at /admin/rq)."""
from datetime import timedelta

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from ..auth.models import User, UserSession
from ..auth.sessions import end_all_sessions
from ..auth.tokens import revoke_all_tokens
from ..extensions import db
from ..library import cleanup, stats
from ..library.quotas import default_quota, human, parse_quota, stored_bytes
from ..library.trash import retention_days
from ..locks import lock_row
from ..parsing import parse_count
from ..scoping import admins_only, first_or_404
from ..timeutil import utcnow
from . import bp, cleanups

HISTORY = 20
DRY_RUN_VALID = timedelta(hours=24)  # an older dry run is run again before its cleanup starts


@bp.before_request
@login_required
def _admins_only():
    admins_only()


@bp.get("")
@bp.get("/")
def index():
    live = sa.and_(UserSession.user_id == User.id, UserSession.expires_at > utcnow())
    rows = db.session.execute(
        sa.select(User, sa.func.count(UserSession.id), sa.func.max(UserSession.last_seen_at))
        .outerjoin(UserSession, live).group_by(User.id).order_by(User.display_name, User.id)).all()
    history = db.session.scalars(sa.select(cleanup.CleanupRun).where(cleanup.CleanupRun.started_at.is_not(None))
                                 .order_by(cleanup.CleanupRun.started_at.desc(), cleanup.CleanupRun.id.desc())
                                 .limit(HISTORY)).all()
    stats.fold()
    stored = dict(db.session.execute(sa.select(stats.owner_storage.c.owner_id, stats.owner_storage.c.stored_bytes)).all())
    return render_template("admin/index.html", rows=rows, stored=stored,
                           default_quota=default_quota(), history=history, retention_days=retention_days(),
                           orphan_labels=cleanup.ORPHAN_LABELS, form=request.args)


@bp.get("/users")
def users():
    return redirect(url_for("admin.index") + "#users")


@bp.post("/users/<int:user_id>/sign-out")
def sign_out_everywhere(user_id):
    """End every session of the user, on every device, and revoke their API tokens: what to do when an
    account may be in someone else's hands."""
    user = first_or_404(sa.select(User).where(User.id == user_id))
    ended = end_all_sessions(user.id)
    revoked = revoke_all_tokens(user.id)
    flash(f"{user.display_name} is signed out everywhere ({ended} session{'s' if ended != 1 else ''} ended, "
          f"{revoked} API token{'s' if revoked != 1 else ''} revoked).", "success")
    return redirect(url_for("admin.index") + "#users")


@bp.post("/users/<int:user_id>/quota")
def set_quota(user_id):
    """The user's storage quota (`10GB`, `500MB`, or `unlimited`), as `flask quota` sets it."""
    user = first_or_404(sa.select(User).where(User.id == user_id))
    try:
        user.quota_bytes = parse_quota(request.form.get("quota", ""))
    except ValueError as error:
        flash(f"{user.display_name}’s quota was not changed. {error}", "error")
        return redirect(url_for("admin.index") + "#users")
    db.session.commit()
    limit = "no quota (unlimited)" if user.quota_bytes is None else f"a quota of {human(user.quota_bytes)}"
    flash(f"{user.display_name} now has {limit}; {human(stored_bytes(user.id))} is stored.", "success")
    return redirect(url_for("admin.index") + "#users")


@bp.post("/cleanup/dry-run")
def dry_run():
    """Write down what a cleanup would remove, and show it (nothing is removed yet)."""
    form = request.form
    try:
        criteria = cleanup.Criteria.checked(
            form.get("kind", ""), older_than=parse_count(form.get("older_than", ""), 36500),
            orphans=form.get("orphans", "both"), user_email=form.get("user", ""), permanent=form.get("permanent") == "1")
    except cleanup.CleanupRefused as refusal:
        flash(str(refusal), "error")
        return redirect(url_for("admin.index", **{key: form.get(key, "") for key in ("older_than", "orphans", "user")})
                        + "#cleanup")
    run = cleanup.dry_run(current_user, criteria)
    return redirect(url_for("admin.cleanup_report", run_id=run.id))


def _run_or_404(run_id):
    return first_or_404(sa.select(cleanup.CleanupRun).where(cleanup.CleanupRun.id == run_id))


@bp.get("/cleanup/<int:run_id>")
def cleanup_report(run_id):
    run = _run_or_404(run_id)
    criteria = run.rules
    user = db.session.get(User, criteria.user_id) if criteria.user_id else None
    return render_template("admin/cleanup.html", run=run, criteria=criteria, description=criteria.describe(user),
                           owners=cleanup.breakdown(run), sample=cleanup.sample(run),
                           stale=utcnow() - run.created_at > DRY_RUN_VALID)


@bp.get("/cleanup/<int:run_id>.csv")
def cleanup_csv(run_id):
    """The dry run's full list, streamed (a spreadsheet opens it; names cannot start a formula)."""
    run = _run_or_404(run_id)
    filename = f"cleanup-{run.id}-{run.kind}-{run.created_at:%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(cleanup.csv_lines(run)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@bp.post("/cleanup/<int:run_id>/run")
def run_cleanup(run_id):
    """Start the cleanup of exactly what the dry run listed, as an operation in the Activity panel."""
    run = _run_or_404(run_id)
    lock_row(cleanup.CleanupRun, run.id)  # two presses start one run
    db.session.refresh(run)
    report = url_for("admin.cleanup_report", run_id=run.id)
    if run.status != "dry-run":
        flash("This cleanup has been started already.", "info")
        return redirect(report)
    if utcnow() - run.created_at > DRY_RUN_VALID:
        flash("This dry run is more than a day old: do a new dry run, and run that one.", "error")
        return redirect(report)
    if not run.files:
        flash("The dry run found nothing to remove.", "info")
        return redirect(report)
    if run.rules.permanent and request.form.get("confirm") != "delete":
        flash("Tick “Delete these files permanently” to run a cleanup that cannot be undone.", "error")
        return redirect(report)
    operation = cleanups.start(run, current_user)
    if operation is None:
        flash("Background work is unavailable right now (the job queue does not answer). Nothing was removed; "
              "try again in a moment.", "error")
        return redirect(report)
    flash(f"Cleanup started: {run.files:,} files. Its progress is in the Activity panel.", "success")
    return redirect(report)


@bp.get("/cleanup/<int:run_id>/status")
def cleanup_status(run_id):
    """The report's live part (htmx polls it while the run works)."""
    run = _run_or_404(run_id)
    if not request.headers.get("HX-Request"):
        abort(404)
    return render_template("admin/_cleanup_status.html", run=run)
