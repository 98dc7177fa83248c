"""Numbers from requests, parsed in one place: ids and byte counts in paths, forms, headers and
cursors are ASCII digits within what the database stores, or they are refused.

`str.isdigit()` accepts "²" and "١٢", and `int()` takes "1_000", " 7" and "-0"; the database
refuses ids beyond 32 bits (PostgreSQL's integer) and counts beyond 64 bits (SQLite raises
OverflowError), so every number goes through here before it reaches a query.
"""
import re

from flask import abort
from werkzeug.routing import BaseConverter, ValidationError

# Sizes people type ("10GB", "1.5 GB", "500MB", "2GiB"): decimal units as sizes are shown (and as
# storage is billed), binary ones when asked for by name.
SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
              "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_TYPED_SIZE = re.compile(r"([0-9]{1,15}(?:\.[0-9]{1,6})?)\s*([a-zA-Z]{0,3})")
MAX_ID = 2**31 - 1  # primary keys are INTEGER columns: 32 bits on PostgreSQL
MAX_COUNT = 2**63 - 1  # byte counts and offsets are BIGINT columns
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_count(raw, maximum=MAX_COUNT):
    """A whole number 0..maximum from ASCII digits, else None."""
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= maximum else None


def parse_size(raw):
    """Bytes from a size a person typed ("10GB", "1.5 GB", "2GiB", "5000"), else None."""
    match = _TYPED_SIZE.fullmatch((raw or "").strip()) if isinstance(raw, str) else None
    unit = match and match.group(2).lower()
    if not match or unit not in SIZE_UNITS:
        return None
    value = round(float(match.group(1)) * SIZE_UNITS[unit])
    return value if value <= MAX_COUNT else None


def typed_size(size):
    """A size as a person would type it back, exactly: "200GB", "1500MB", "1234 bytes" -> "1234"."""
    for unit, factor in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def parse_id(raw):
    """A row id (1..MAX_ID) from ASCII digits, else None."""
    value = parse_count(raw if isinstance(raw, str) else str(raw or ""), MAX_ID)
    return value or None


def parse_ids(values):
    """Ids from a list of strings, in order; None when any of them is not an id."""
    ids = [parse_id(raw) for raw in values]
    return None if None in ids else ids


def id_or_400(raw, what="a file"):
    value = parse_id(raw)
    if value is None:
        abort(400, f"The request holds something that is not {what}.")
    return value


def ids_or_400(values, what="a file"):
    ids = parse_ids(values)
    if ids is None:
        abort(400, f"The request holds something that is not {what}.")
    return ids


def is_row_id(value):
    """A JSON-decoded value (a cursor's) that can be a row id."""
    return type(value) is int and 0 < value <= MAX_ID


def is_stored_integer(value):
    """A JSON-decoded value that fits an INTEGER or BIGINT column (booleans are not numbers here)."""
    return type(value) is int and -MAX_COUNT - 1 <= value <= MAX_COUNT


class IdConverter(BaseConverter):
    """`<int:…>` in routes: ASCII digits within the id range; anything else is not a route (404)."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value):
        parsed = parse_id(value)
        if parsed is None:
            raise ValidationError()
        return parsed

    def to_url(self, value):
        return str(int(value))


class UploadIdConverter(BaseConverter):
    """`<upload:…>`: a resumable upload's id, 32 lower-case hex digits (secrets.token_hex(16))."""

    regex = r"[0-9a-f]{32}"


def init_app(app):
    """Before any blueprint adds its rules: they are compiled with the converters known then."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["upload"] = UploadIdConverter
