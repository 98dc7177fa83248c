"""/analytics: an instructor's own storage, or (an admin) every user's, one user's, and the per-user table."""
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, render_template, request, url_for
from flask_login import current_user, login_required

from ..auth.models import User
from ..library import stats
from ..library.queries import SIZE_RANGES
from ..parsing import parse_count, parse_id
from ..scoping import first_or_404, sees_everyone
from ..templating import KIND_LABELS, human_size
from . import bp, charts, figures

SIZE_FILTERS = [value for value in SIZE_RANGES if value]  # the histogram's buckets, in order


def _scope():
    """(owner id or None for everyone, the user shown or None). Only an admin may name a user; anyone
    else naming another user gets 404, as for any object of someone else's."""
    raw = request.args.get("user", "")
    if not sees_everyone():
        if raw and parse_id(raw) != current_user.id:
            abort(404)
        return current_user.id, None
    if not raw:
        return None, None
    user = first_or_404(sa.select(User).where(User.id == (parse_id(raw) or 0)))
    return user.id, user


@bp.get("/analytics")
@login_required
def index():
    stats.fold()  # what changed since the last fold, so the page is exact
    owner_id, shown = _scope()
    everyone = owner_id is None

    def library(**args):
        """The library filtered to the files behind a figure (one user's, when an admin looks at one)."""
        if shown is not None:
            args["owner"] = shown.id
        return url_for("library.index", **args)

    overview = figures.overview(owner_id)
    types = figures.by_type(owner_id)
    histogram = figures.size_histogram(owner_id)
    weeks = figures.growth(owner_id)
    type_chart = charts.bar_chart(
        "Storage by type", "Bytes in the library for each type of file.",
        [(f"{KIND_LABELS[kind]}: {amount.files:,} files, {human_size(amount.bytes)}", amount.bytes,
          library(type=kind), KIND_LABELS[kind]) for kind, amount in types], charts.SIZE)
    size_chart = charts.bar_chart(
        "Files by size", "How many library files fall in each size range.",
        [(f"{label}: {amount.files:,} files, {human_size(amount.bytes)}", amount.files, library(size=size), short)
         for label, short, amount, size in zip(stats.SIZE_LABELS, stats.SIZE_AXIS, histogram, SIZE_FILTERS)], charts.COUNT)
    added_chart = charts.bar_chart(
        "Added per week", f"Bytes uploaded in each of the last {len(weeks)} weeks.",
        [(f"Week of {week.start:%-d %b %Y}: {week.added.files:,} files, {human_size(week.added.bytes)}",
          week.added.bytes, library(added=f"{week.start}..{week.start + timedelta(days=6)}"), f"{week.start:%-d %b}")
         for week in weeks], charts.SIZE)
    total_chart = charts.line_chart(
        "Total over time", "Bytes held (library and trash) at the end of each week.",
        [(f"End of the week of {week.start:%-d %b %Y}: {human_size(week.cumulative_bytes)}", week.cumulative_bytes,
          f"{week.start:%-d %b}") for week in weeks], charts.SIZE)
    table = None
    if everyone:
        descending = request.args.get("dir", "desc") != "asc"
        table = figures.user_table(request.args.get("sort", "stored"), descending,
                                   parse_count(request.args.get("page", "1"), 10**6) or 1)
    quota = shown.quota_bytes if shown is not None else (None if everyone else current_user.quota_bytes)
    return render_template("analytics/index.html", overview=overview, types=types, histogram=histogram,
                           size_labels=stats.SIZE_LABELS, size_filters=SIZE_FILTERS, weeks=weeks,
                           charts=[type_chart, size_chart, added_chart, total_chart], largest=figures.largest(owner_id),
                           orphans=figures.orphans(owner_id), ages=figures.ORPHAN_AGES, library=library,
                           table=table, shown=shown, everyone=everyone, quota=quota, columns=figures.USER_COLUMNS)
