"""The library listing: filters read from the URL, and keyset pagination that stays fast on deep pages."""
import base64
import binascii
import json
import unicodedata
import math
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import func, tuple_

from ..auth.models import User
from ..courses.models import Chapter, ChapterItem, Course
from ..extensions import db
from ..parsing import is_row_id, is_stored_integer, parse_count, parse_id, parse_size
from ..scoping import owned, scoped, scoped_to, sees_everyone
from ..timeutil import utcnow
from .models import KINDS, MediaFile, MediaVersion, Tag, media_tags
from ..captions.search import note_spoken_cues, spoken_in
from .search import search_words, with_search
from .service import MAX_CATEGORY_LENGTH, normalize_tag

PAGE_SIZE = 48
COUNT_LIMIT = 1000  # beyond this the page says "1,000+ files": exact counts of big searches cost a full scan
MAX_QUERY_LENGTH = 200
# The duration sort's key: files without a duration (images, documents) sort as 0 seconds, so the
# key is never NULL (a keyset comparison with NULL matches nothing); indexed as models.DURATION_KEY_SQL.
DURATION_KEY = func.coalesce(MediaFile.duration_seconds, sa.literal_column("0"))


class Sort(NamedTuple):
    column: object
    descending: bool
    label: str
    value: object = None  # the sort key of a loaded file, when `column` is not one of its attributes

    def key_of(self, media):
        return self.value(media) if self.value else getattr(media, self.column.key)


def _duration_key(media):
    return media.duration_seconds or 0


SORTS = {
    "newest": Sort(MediaFile.created_at, True, "Newest first"),
    "oldest": Sort(MediaFile.created_at, False, "Oldest first"),
    "name": Sort(MediaFile.name_key, False, "Name (A–Z)"),
    "name_desc": Sort(MediaFile.name_key, True, "Name (Z–A)"),
    "type": Sort(MediaFile.kind, False, "Type (A–Z)"),
    "type_desc": Sort(MediaFile.kind, True, "Type (Z–A)"),
    "largest": Sort(MediaFile.size_bytes, True, "Largest first"),
    "smallest": Sort(MediaFile.size_bytes, False, "Smallest first"),
    "longest": Sort(DURATION_KEY, True, "Longest first", _duration_key),
    "shortest": Sort(DURATION_KEY, False, "Shortest first", _duration_key),
    "most_used": Sort(MediaFile.usage_count, True, "Most used"),
    "least_used": Sort(MediaFile.usage_count, False, "Least used"),
}
# The list view's sortable columns: (key, label, the sort a first click asks for, the reverse).
LIST_COLUMNS = (("name", "Name", "name", "name_desc"), ("type", "Type", "type", "type_desc"),
                ("size", "Size", "largest", "smallest"), ("duration", "Duration", "longest", "shortest"),
                ("added", "Added", "newest", "oldest"), ("used", "Used in", "most_used", "least_used"))


class ListColumn(NamedTuple):
    key: str
    label: str
    sort: str  # what a click asks for: the column's first sort, or its reverse when that is the sort now
    direction: str | None  # "ascending" or "descending" when the list is sorted by this column


TYPE_LABELS = {"": "All", "video": "Video", "image": "Image", "audio": "Audio", "document": "Document"}
USAGE_LABELS = {"": "All", "used": "Used in a course", "unused": "Unused", "never": "Never used",
                "previously": "Previously used"}
# What the Quality filter offers: "attention" is the files whose quality report found a problem or
# scored under video.analysis.ATTENTION_SCORE (MediaFile.needs_attention, kept by the report).
QUALITY_LABELS = {"": "Any quality", "attention": "Needs attention"}
# Ranges of the size histogram (library.stats.SIZE_EDGES), offered by the Size filter.
SIZE_RANGES = {"": "Any size", "-1MB": "Under 1 MB", "1MB-10MB": "1–10 MB", "10MB-100MB": "10–100 MB",
               "100MB-1GB": "100 MB–1 GB", "1GB-": "Over 1 GB"}
MAX_IDLE_DAYS = 36500
# The Added filter's presets (a range is "2026-11-23..2026-11-29"; the form's "range" choice takes
# its two dates from added_from and added_to).
ADDED_PRESETS = {"": "Any time", "week": "This week", "month": "This month"}
ADDED_LABELS = {"week": "Added this week", "month": "Added this month"}


def parse_size_range(raw):
    """'1MB-10MB', '-1MB' or '1GB-' -> (at least, under) in bytes, either None; None when it is not a
    range (decimal units as sizes are shown, KiB/MiB/GiB binary)."""
    low, dash, high = (raw or "").strip().lower().partition("-")
    if not dash:
        return None
    bounds = []
    for text in (low.strip(), high.strip()):
        if not text:
            bounds.append(None)
            continue
        size = parse_size(text)
        if size is None:
            return None
        bounds.append(size)
    if bounds == [None, None] or (None not in bounds and bounds[0] >= bounds[1]):
        return None
    return tuple(bounds)


def parse_date_range(raw):
    """'2026-11-23..2026-11-29' (either side may be left out) -> (first day, last day); None otherwise."""
    first, dots, last = (raw or "").strip().partition("..")
    if not dots:
        return None
    try:
        days = [date.fromisoformat(text) if text else None for text in (first.strip(), last.strip())]
    except ValueError:
        return None
    if days == [None, None] or (None not in days and days[0] > days[1]):
        return None
    return tuple(days)


def added_days(raw, today=None):
    """(first day, last day) of an Added value, either None: "week" is since this Monday, "month"
    since the 1st; otherwise a range (parse_date_range); None when it is neither."""
    today = today or utcnow().date()
    if raw == "week":
        return today - timedelta(days=today.weekday()), None
    if raw == "month":
        return today.replace(day=1), None
    return parse_date_range(raw)


def _added_of(args):
    """The Added value of a request: a preset or a range as given (links), else the range of the
    form's two date fields (in either order), else none."""
    raw = args.get("added", "")[:40].strip()
    if raw in ADDED_LABELS or parse_date_range(raw):
        return raw
    days = []
    for field in ("added_from", "added_to"):
        try:
            days.append(date.fromisoformat(args.get(field, "").strip()[:10]))
        except ValueError:
            days.append(None)
    if None not in days:
        days.sort()
    return "..".join(day.isoformat() if day else "" for day in days) if days != [None, None] else ""


@dataclass(frozen=True)
class LibraryFilter:
    """What the user asked to see; every field comes from the URL and bad values fall back to defaults."""

    q: str = ""
    type: str = ""
    tag: str = ""
    course: int = 0
    usage: str = ""
    quality: str = ""  # "attention": only files whose quality report needs attention
    size: str = ""  # a size range, "1MB-10MB" (parse_size_range)
    category: str = ""
    added: str = ""  # "week", "month" or days added, "2026-11-23..2026-11-29" (added_days)
    idle: int = 0  # unused for more than this many days
    versions: str = ""  # "1": only files with earlier versions
    owner: int = 0  # one owner's files (what an admin sees of one user)
    sort: str = "newest"
    view: str = "grid"
    cursor: str = ""

    @classmethod
    def from_args(cls, args):
        kind = args.get("type", "")
        sort = args.get("sort", "newest")
        view = args.get("view", "grid")
        usage = args.get("usage", "")
        size = args.get("size", "")[:40]
        idle = parse_count(args.get("idle", ""), MAX_IDLE_DAYS) or 0
        return cls(q=clean_query(args.get("q", "")),
                   type=kind if kind in KINDS else "",
                   tag=normalize_tag(args.get("tag", "")),
                   course=parse_id(args.get("course", "")) or 0,
                   usage=usage if usage in USAGE_LABELS else "",
                   quality="attention" if args.get("quality") == "attention" else "",
                   size=size.strip() if parse_size_range(size) else "",
                   category=clean_query(args.get("category", "")[:200])[:MAX_CATEGORY_LENGTH].strip(),
                   added=_added_of(args),
                   idle=idle,
                   versions="1" if args.get("versions") == "1" else "",
                   owner=parse_id(args.get("owner", "")) or 0,
                   sort=sort if sort in SORTS else "newest",
                   view=view if view in ("grid", "list") else "grid",
                   cursor=args.get("cursor", "")[:500])

    def args(self, **changes):
        """URL arguments for this filter (defaults left out), with `changes` applied."""
        values = replace(self, **changes).__dict__
        return {key: value for key, value in values.items() if value and value != LibraryFilter.__dict__.get(key)}

    def matching_args(self):
        """The arguments that decide which files match: every field but how they are shown (sort,
        view, page). "Select all matching" carries exactly these, so a field added here is carried too."""
        return self.args(sort="newest", view="grid", cursor="")

    @property
    def list_columns(self):
        columns = []
        for key, label, first, reverse in LIST_COLUMNS:
            active = self.sort in (first, reverse)
            direction = ("descending" if SORTS[self.sort].descending else "ascending") if active else None
            columns.append(ListColumn(key, label, reverse if self.sort == first else first, direction))
        return columns

    @property
    def is_filtered(self):
        return bool(self.matching_args())

    @property
    def narrowing_count(self):
        """How many filters beside the search narrow the files (the phone's "Filters" button shows it)."""
        return len(self.matching_args()) - bool(self.q)

    @property
    def usage_label(self):
        return {"used": "used in a course"}.get(self.usage, USAGE_LABELS.get(self.usage, "").lower())

    @property
    def size_label(self):
        return SIZE_RANGES.get(self.size) or self.size.replace("-", "–")

    @property
    def added_range(self):
        """(first day, last day) of a range (either None); None for a preset or no Added filter."""
        return parse_date_range(self.added)

    @property
    def added_label(self):
        if self.added in ADDED_LABELS:
            return ADDED_LABELS[self.added]
        first, last = self.added_range or (None, None)
        if first and last:
            return f"Added {first:%-d %b %Y} – {last:%-d %b %Y}"
        return f"Added since {first:%-d %b %Y}" if first else f"Added until {last:%-d %b %Y}"


def clean_query(raw):
    """The search as typed, on one line: control characters (a NUL ends an FTS5 phrase) go."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in raw or "")
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


@dataclass
class Page:
    items: list
    next_cursor: str | None
    total: int | None


def _encode_cursor(value, media_id):
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([value, media_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _not_ours(_constant):
    raise ValueError("not a cursor of ours")


MAX_CURSOR_NUMBER = 1e15


def _decode_cursor(cursor, column):
    """(value, id) from a cursor, or None when it is not one of ours (then the first page is shown):
    the id a row id, the value of the sort column's type and range (a float only for a float key,
    never Infinity or NaN)."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)), parse_constant=_not_ours)
        value, media_id = decoded
    except (ValueError, TypeError, binascii.Error, RecursionError):
        return None
    if not is_row_id(media_id):
        return None
    if isinstance(column.type, db.Float):
        number = type(value) in (int, float) and math.isfinite(value) and abs(value) <= MAX_CURSOR_NUMBER
        return (value, media_id) if number else None
    if isinstance(column.type, (db.Integer, db.BigInteger)):
        return (value, media_id) if is_stored_integer(value) else None
    if not isinstance(value, str) or len(value) > 300:
        return None
    if isinstance(column.type, db.DateTime):
        try:
            return datetime.fromisoformat(value), media_id
        except ValueError:
            return None
    return value, media_id


def filtered_media(user, flt, counting=False):
    """The user's library files that match the filter; `counting`: for a capped count of them (a search
    may then go through its index for more words, library/search.py)."""
    query = owned(MediaFile, user).where(MediaFile.deleted_at.is_(None))
    if flt.type:
        query = query.where(MediaFile.kind == flt.type)
    if flt.tag:
        tagged = db.select(media_tags.c.media_id).join(Tag, Tag.id == media_tags.c.tag_id).where(Tag.name == flt.tag)
        query = query.where(MediaFile.id.in_(scoped(tagged, Tag.owner_id, user)))
    if flt.course:
        query = query.where(MediaFile.id.in_(_course_media(user, flt.course)))
    query = _usage_condition(query, flt)
    if flt.quality:
        query = query.where(MediaFile.needs_attention.is_(True))
    if flt.size:
        at_least, under = parse_size_range(flt.size)
        if at_least is not None:
            query = query.where(MediaFile.size_bytes >= at_least)
        if under is not None:
            query = query.where(MediaFile.size_bytes < under)
    if flt.category:
        query = query.where(MediaFile.category == flt.category)
    if flt.added:
        first, last = added_days(flt.added)
        if first:
            query = query.where(MediaFile.created_at >= datetime.combine(first, datetime.min.time()))
        if last and last < date.max:
            query = query.where(MediaFile.created_at < datetime.combine(last + timedelta(days=1), datetime.min.time()))
    if flt.versions:
        earlier = sa.select(MediaVersion.media_id).where(MediaVersion.number > 1)
        query = query.where(MediaFile.id.in_(scoped(earlier, MediaVersion.owner_id, user)))
    if flt.owner:
        query = scoped_to(query, MediaFile.owner_id, flt.owner)  # within what the user may see already
    if not flt.q:
        return query
    words = search_words(flt.q)
    return with_search(query, words, counting, also=spoken_in(words, user))


def usage_condition(usage):
    """What each Usage value means, the one definition (the library's filter, analytics, cleanup):
    "never used" files no chapter has ever linked, "previously used" ones were linked and are no
    longer; both are orphans, "unused"."""
    return {"used": MediaFile.usage_count > 0,
            "unused": MediaFile.usage_count == 0,
            "never": sa.and_(MediaFile.usage_count == 0, MediaFile.unlinked_at.is_(None)),
            "previously": sa.and_(MediaFile.usage_count == 0, MediaFile.unlinked_at.is_not(None))}[usage]


def idle_condition(days, now=None):
    """Orphans unused for more than `days` days: added that long ago and never used, or unlinked
    that long ago."""
    since = sa.func.coalesce(MediaFile.unlinked_at, MediaFile.created_at)
    return sa.and_(MediaFile.usage_count == 0, since < (now or utcnow()) - timedelta(days=days))


def _usage_condition(query, flt):
    if flt.usage:
        query = query.where(usage_condition(flt.usage))
    if flt.idle:
        query = query.where(idle_condition(flt.idle))
    return query


def _course_media(user, course_id):
    """Ids of the files the course links (a course of someone else's answers no files)."""
    query = (sa.select(ChapterItem.media_id).join(Chapter, Chapter.id == ChapterItem.chapter_id)
             .join(Course, Course.id == Chapter.course_id).where(Course.id == course_id))
    return scoped(query, Course.owner_id, user)


def _course_file_count(user, course_id):
    """How many files the course uses, from its links alone: a linked file is always in the library
    (the trash refuses it), so the files' rows need not be read."""
    return min(db.session.scalar(sa.select(func.count(sa.distinct(_course_media(user, course_id).subquery().c.media_id)))),
               COUNT_LIMIT + 1)


MAX_OWNER_CHOICES = 500


def owner_choices(user):
    """(id, name) of every user, by name, for an admin's Owner filter; nothing for anyone else (an
    instructor's library is their own)."""
    if not sees_everyone(user):
        return []
    query = sa.select(User.id, User.display_name).order_by(User.display_name, User.id).limit(MAX_OWNER_CHOICES)
    return db.session.execute(query).all()


def course_choices(user):
    """(id, title, number of files it uses) for the Course filter, titles in order; one query."""
    files = sa.func.count(sa.distinct(ChapterItem.media_id))
    query = (sa.select(Course.id, Course.title, files).outerjoin(Chapter, Chapter.course_id == Course.id)
             .outerjoin(ChapterItem, ChapterItem.chapter_id == Chapter.id)
             .group_by(Course.id, Course.title).order_by(Course.title, Course.id))
    return db.session.execute(scoped(query, Course.owner_id, user)).all()


def capped_count(query):
    """How many rows `query` finds, counting no further than COUNT_LIMIT + 1."""
    limited = query.with_only_columns(MediaFile.id).order_by(None).limit(COUNT_LIMIT + 1).subquery()
    return db.session.scalar(db.select(func.count()).select_from(limited))


def paginate(query, sort, cursor, page_size=PAGE_SIZE, deferred=False):
    """Keyset pagination on (column, id): a deep page costs what the first one does.

    `deferred` picks the page's ids first and reads whole rows for those ids only: when the filter
    has to sort every match (a tag's files), the ids and sort keys come from a covering index
    (migration 0004 on PostgreSQL) instead of one table-row read per match."""
    column, descending = sort.column, sort.descending
    position = _decode_cursor(cursor, column) if cursor else None
    if position:
        key = tuple_(column, MediaFile.id)
        query = query.where(key < tuple_(*position) if descending else key > tuple_(*position))
    order = (column.desc(), MediaFile.id.desc()) if descending else (column.asc(), MediaFile.id.asc())
    if deferred:
        page_ids = query.with_only_columns(MediaFile.id).order_by(*order).limit(page_size + 1)
        query = db.select(MediaFile).where(MediaFile.id.in_(page_ids))
    rows = list(db.session.scalars(query.order_by(*order).limit(page_size + 1)))
    items = rows[:page_size]
    next_cursor = _encode_cursor(sort.key_of(items[-1]), items[-1].id) if len(rows) > page_size else None
    return items, next_cursor


def library_page(user, flt, page_size=None):
    """One page of the library (PAGE_SIZE files unless told); the total is counted only for the first page."""
    page_size = page_size or PAGE_SIZE
    if flt.cursor:
        total = None
    elif flt.course and set(flt.matching_args()) == {"course"}:
        total = _course_file_count(user, flt.course)
    else:  # counted first: a search's count asks its index the wider question, whose answer the page reuses
        total = capped_count(filtered_media(user, flt, counting=True))
    query = filtered_media(user, flt)
    items, next_cursor = paginate(query, SORTS[flt.sort], flt.cursor, page_size,
                                  deferred=bool(flt.tag or flt.course))
    if flt.q:  # where the cards found by their captions say the words are said
        note_spoken_cues([item.id for item in items], search_words(flt.q))
    return Page(items=items, next_cursor=next_cursor, total=total)


TRASH_ORDER = Sort(MediaFile.deleted_at, True, "Recently trashed first")


def trash_page(user, cursor="", page_size=PAGE_SIZE, counted=None):
    """One page of the trash; the total is counted for the first page (or when `counted`: a full
    page opened at a cursor, from a shared link)."""
    query = owned(MediaFile, user).where(MediaFile.deleted_at.is_not(None))
    total = capped_count(query) if (counted if counted is not None else not cursor) else None
    items, next_cursor = paginate(query, TRASH_ORDER, cursor, page_size)
    return Page(items=items, next_cursor=next_cursor, total=total)


def tag_suggestions(user, prefix, limit=10):
    query = scoped(db.select(Tag.name).distinct().order_by(Tag.name).limit(limit), Tag.owner_id, user)
    if prefix:
        query = query.where(Tag.name.startswith(normalize_tag(prefix), autoescape=True))
    return list(db.session.scalars(query))


def category_suggestions(user, limit=200):
    """The categories of the user's library (an admin's: everyone's), in order: the details form's
    suggestions and the Category filter's choices."""
    query = (owned(MediaFile, user).with_only_columns(MediaFile.category).distinct()
             .where(MediaFile.deleted_at.is_(None), MediaFile.category != "").order_by(MediaFile.category))
    return list(db.session.scalars(query.limit(limit)))
