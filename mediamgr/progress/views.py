"""What progress looks like on a page: the operations a page is told about, rendered as fragments."""
from datetime import timedelta

from flask import abort, redirect, render_template

from ..extensions import db
from ..jobs.prepared import DownloadExpired, prepared_url
from ..library.models import MediaFile
from ..scoping import get_owned_or_404, owned, owned_by
from ..timeutil import utcnow
from .models import ACTIVE, Operation

RECENT = timedelta(minutes=10)  # finished operations a (re)connecting page still gets told about


def recent_operations(user, finished_too=True):
    """The user's unfinished operations and (finished_too) those that finished in the last few minutes."""
    # The panel shows the work the user started, an admin's too (not everyone's).
    query = owned_by(Operation, user.id).order_by(Operation.id)
    if finished_too:
        query = query.where(Operation.status.in_(ACTIVE) | (Operation.finished_at >= utcnow() - RECENT))
    else:
        query = query.where(Operation.status.in_(ACTIVE))
    return list(db.session.scalars(query.limit(200)))


def render_events(events, with_cards=True, catchup=False):
    """The operation rows (and, for finished uploads, the file's grid card) as out-of-band swaps.

    `catchup` rows fetch their state once more shortly after they appear, in case events were
    published before the page had the row to swap them into."""
    media_ids = [event["media_id"] for event in events if with_cards and event["media_id"] and
                 event["status"] in ("succeeded", "failed")]
    cards = {}
    if media_ids:
        cards = {m.id: m for m in db.session.scalars(owned(MediaFile).where(MediaFile.id.in_(media_ids)))}
    return render_template("progress/_events.html", events=events, cards=cards, catchup=catchup)


def prepared_download(operation_id, kind, content_type, expired):
    """The user's prepared download (an export, a zip) of operation `kind`: a redirect to a fresh
    short-lived signed address of the stored file; 410 with `expired` once it has expired."""
    operation = get_owned_or_404(Operation, operation_id)
    if operation.kind != kind:
        abort(404)
    try:
        url = prepared_url(operation, content_type(operation) if callable(content_type) else content_type)
    except DownloadExpired:
        abort(410, expired)
    if url is None:
        abort(404)
    return redirect(url)
