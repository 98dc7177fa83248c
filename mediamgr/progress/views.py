"""What progress looks like on a page: the operations a page is told about, rendered as fragments."""
from datetime import timedelta

from flask import render_template

from ..extensions import db
from ..library.models import MediaFile
from ..scoping import owned, owned_by
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
