"""A library's metadata as a document, and back: export (JSON, and CSV for spreadsheets) and import.

Export is streamed a thousand files at a time (constant memory whatever the library's size): every
field of each file, its tags, versions, caption tracks and history, then the courses with their
chapters and items.

Import checks the whole document first and names each problem by its place ("files[12].tags[3]:
longer than 40 characters"), with the library's own rules for names, tags, categories, descriptions
and titles. A dry run says what would be created and what conflicts. The import itself is one
transaction: a bad document, or a failure half-way, changes nothing. Imported files refer to the
same stored content: the same keys for the same owner; for another owner the objects are copied
within the storage (S3 CopyObject), never through this process, before the transaction, and removed
again if it fails.
"""
import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..captions.formats import MAX_CAPTION_BYTES, CaptionError, read_captions
from ..captions.languages import LANGUAGES
from ..captions.models import Caption
from ..captions.service import clean_label, searchable
from ..courses.models import Chapter, ChapterItem, Course
from ..courses.service import CourseEditRefused, clean_title
from ..courses.usage import refresh_usage
from ..extensions import db
from ..parsing import MAX_COUNT
from ..scoping import owned_by
from ..storage import content_key, get_storage
from ..storage import thumbnail_key as thumbnail_key_of
from ..text import spreadsheet_safe, visible_text
from ..timeutil import utcnow
from .alt_text import clean_alt_text
from .models import KINDS, MAX_ALT_TEXT_LENGTH, STATUSES, MediaEvent, MediaFile, MediaVersion, Tag, media_tags, search_text_of
from .service import (MAX_TAG_LENGTH, MAX_TAGS_PER_FILE, TOO_MANY_TAGS, EditRefused, clean_category, clean_description,
                      normalize_tag, refresh_search_text)
from .trash import schedule_deletion

FORMAT = "mediamgr-library"
VERSION = 1
BATCH = 1000
MAX_ERRORS = 50
FILE_FIELDS = ("name", "original_name", "kind", "mime_type", "size_bytes", "sha256", "storage_key", "thumbnail_key",
               "duration_seconds", "width", "height", "page_count", "video_codec", "audio_codec", "category",
               "description", "alt_text", "status", "failure_reason", "created_at", "updated_at", "ready_at", "deleted_at",
               "unlinked_at", "usage_count")
VERSION_FIELDS = ("number", "status", "original_name", "kind", "mime_type", "size_bytes", "sha256", "storage_key",
                  "thumbnail_key", "duration_seconds", "width", "height", "page_count", "video_codec", "audio_codec",
                  "restored_from", "failure_reason", "created_at", "current_since")
TIMES = {"created_at", "updated_at", "ready_at", "deleted_at", "unlinked_at", "current_since"}
CSV_COLUMNS = ("id", "name", "type", "size (bytes)", "status", "category", "tags", "description", "alt text", "added",
               "updated", "in the trash", "used in (links)", "versions", "sha256")


def _time(value):
    return value.isoformat(timespec="microseconds") if value else None


def _values(row, fields):
    return {name: _time(getattr(row, name)) if name in TIMES else getattr(row, name) for name in fields}


# ---- export --------------------------------------------------------------------------------------

def _file_batches(owner_id):
    """Lists of (file, tags, versions, history, captions) of the owner's files, BATCH at a time, in id order."""
    after = 0
    while True:
        files = list(db.session.scalars(owned_by(MediaFile, owner_id).where(MediaFile.id > after)
                                        .order_by(MediaFile.id).limit(BATCH).execution_options(populate_existing=True)))
        if not files:
            return
        ids = [media.id for media in files]
        tags, versions, history, captions = {}, {}, {}, {}
        for media_id, name in db.session.execute(sa.select(media_tags.c.media_id, Tag.name).join(Tag, Tag.id == media_tags.c.tag_id)
                                                 .where(media_tags.c.media_id.in_(ids)).order_by(Tag.name)):
            tags.setdefault(media_id, []).append(name)
        for version in db.session.scalars(sa.select(MediaVersion).where(MediaVersion.media_id.in_(ids))
                                          .order_by(MediaVersion.media_id, MediaVersion.number.nulls_last(), MediaVersion.id)):
            versions.setdefault(version.media_id, []).append(_values(version, VERSION_FIELDS))
        for event in db.session.scalars(sa.select(MediaEvent).where(MediaEvent.media_id.in_(ids))
                                        .order_by(MediaEvent.media_id, MediaEvent.created_at, MediaEvent.id)):
            history.setdefault(event.media_id, []).append(
                {"action": event.action, "description": event.description, "details": event.details,
                 "created_at": _time(event.created_at), "actor": event.actor.email if event.actor else None})
        for track in db.session.scalars(sa.select(Caption).where(Caption.media_id.in_(ids))
                                        .order_by(Caption.media_id, Caption.language)):
            captions.setdefault(track.media_id, []).append(
                {"language": track.language, "label": track.label, "vtt": track.vtt, "source_name": track.source_name,
                 "created_at": _time(track.created_at), "updated_at": _time(track.updated_at)})
        yield [(media, tags.get(media.id, []), versions.get(media.id, []), history.get(media.id, []),
                captions.get(media.id, [])) for media in files]
        after = ids[-1]
        db.session.expunge_all()  # the batch is written: keep nothing of it


def _courses(owner_id):
    for course in db.session.scalars(owned_by(Course, owner_id).order_by(Course.id)):
        chapters = []
        for chapter in db.session.scalars(sa.select(Chapter).where(Chapter.course_id == course.id).order_by(Chapter.position)):
            items = [{"position": item.position, "title": item.title, "file": item.media_id, "created_at": _time(item.created_at)}
                     for item in db.session.scalars(sa.select(ChapterItem).where(ChapterItem.chapter_id == chapter.id)
                                                    .order_by(ChapterItem.position))]
            chapters.append({"id": chapter.id, "title": chapter.title, "position": chapter.position, "items": items})
        yield {"id": course.id, "title": course.title, "created_at": _time(course.created_at),
               "updated_at": _time(course.updated_at), "chapters": chapters}


def export_json(owner, on_progress=None):
    """The owner's library as a JSON document, in pieces (a generator of str)."""
    head = {"format": FORMAT, "version": VERSION, "exported_at": _time(utcnow()),
            "owner": {"email": owner.email, "display_name": owner.display_name}}
    owner_id = owner.id
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "files": ['
    written = 0
    for batch in _file_batches(owner_id):
        pieces = []
        for media, tags, versions, history, captions in batch:
            record = {"id": media.id, **_values(media, FILE_FIELDS), "tags": tags, "versions": versions,
                      "captions": captions, "history": history}
            pieces.append(("," if written else "") + "\n" + json.dumps(record, ensure_ascii=False))
            written += 1
        yield "".join(pieces)
        if on_progress:
            on_progress(written)
    yield '\n], "courses": ['
    for number, course in enumerate(_courses(owner_id)):
        yield ("," if number else "") + "\n" + json.dumps(course, ensure_ascii=False)
    yield "\n]}\n"


def export_csv(owner, on_progress=None):
    """One row per file, spreadsheet-friendly (no cell can start a formula), in pieces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    written = 0
    for batch in _file_batches(owner.id):
        for media, tags, versions, _history, _captions in batch:
            writer.writerow([media.id, spreadsheet_safe(media.name), media.kind, media.size_bytes, media.status,
                             spreadsheet_safe(media.category), spreadsheet_safe("; ".join(tags)),
                             spreadsheet_safe(media.description), spreadsheet_safe(media.alt_text),
                             _time(media.created_at), _time(media.updated_at),
                             "yes" if media.deleted_at else "no", media.usage_count,
                             sum(1 for version in versions if version["number"]), media.sha256])
            written += 1
        yield buffer.getvalue()
        if on_progress:
            on_progress(written)
        buffer.seek(0)
        buffer.truncate()


def file_count(owner_id):
    return db.session.scalar(owned_by(MediaFile, owner_id).with_only_columns(sa.func.count()))


# ---- import: checking ----------------------------------------------------------------------------

class ImportRefused(ValueError):
    """A document that cannot be imported; `errors` names each problem by its place."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} problem{'s' if len(errors) != 1 else ''} in the document")
        self.errors = errors


_SHA256 = re.compile(r"[0-9a-f]{64}")


class _Checker:
    def __init__(self):
        self.errors = []

    def error(self, where, message):
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(f"{where}: {message}")

    def of(self, record, where, name, kinds, required=True):
        value = record.get(name) if isinstance(record, dict) else None
        if value is None:
            if required:
                self.error(f"{where}.{name}", "missing")
            return None
        if not isinstance(value, kinds) or isinstance(value, bool):  # true and false are not numbers here
            self.error(f"{where}.{name}", f"must be {_kind_name(kinds)}")
            return None
        return value

    def count(self, record, where, name, required=True, maximum=MAX_COUNT):
        value = self.of(record, where, name, int, required)
        if value is not None and not 0 <= value <= maximum:
            self.error(f"{where}.{name}", f"must be a whole number from 0 to {maximum:,}")
            return None
        return value

    def moment(self, record, where, name, required=False):
        value = self.of(record, where, name, str, required)
        if value is None:
            return None
        try:
            return datetime.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            self.error(f"{where}.{name}", "not a date and time (ISO 8601)")
            return None

    def text(self, record, where, name, limit, required=True, rule=None):
        value = self.of(record, where, name, str, required)
        if value is None:
            return None
        if rule:
            try:
                return rule(value)
            except (EditRefused, CourseEditRefused) as refusal:
                self.error(f"{where}.{name}", str(refusal))
                return None
        if len(value) > limit:
            self.error(f"{where}.{name}", f"longer than {limit} characters")
            return None
        return value


def _kind_name(kinds):
    names = {int: "a whole number", str: "text", list: "a list", dict: "an object", float: "a number"}
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join(names.get(kind, kind.__name__) for kind in kinds)


def _name(raw):
    name = visible_text(raw)
    if not name:
        raise EditRefused("The name can't be empty.")
    if len(name) > 255:
        raise EditRefused("longer than 255 characters")
    return name


def _tag(raw):
    """A tag as the library stores it (lower case, single spaces); refused when it is empty or longer
    than a tag may be, rather than cut short."""
    if len(" ".join(raw.split())) > MAX_TAG_LENGTH:
        raise EditRefused(f"longer than {MAX_TAG_LENGTH} characters")
    name = normalize_tag(raw)
    if not name:
        raise EditRefused("empty")
    return name


@dataclass
class Plan:
    """What an import would do: counts, and the conflicts (files whose content the library holds already)."""

    files: list = field(default_factory=list)  # checked records, in document order
    courses: list = field(default_factory=list)
    new_tags: set = field(default_factory=set)
    existing_tags: set = field(default_factory=set)
    reused: dict = field(default_factory=dict)  # document file id -> existing file (same content)
    conflicts: list = field(default_factory=list)  # sentences
    copies: list = field(default_factory=list)  # (source key, target key, size)
    chapters: int = 0
    links: int = 0

    @property
    def new_files(self):
        return len(self.files) - len(self.reused)

    @property
    def bytes_to_copy(self):
        return sum(size for _source, _target, size in self.copies)


def check(document):
    """The document's checked records; ImportRefused with every problem (up to MAX_ERRORS) otherwise."""
    checker = _Checker()
    if not isinstance(document, dict):
        raise ImportRefused(["document: must be a JSON object (an export of a library)"])
    if document.get("format") != FORMAT:
        checker.error("format", f"must be “{FORMAT}” (is this a mediamgr library export?)")
    if document.get("version") != VERSION:
        checker.error("version", f"must be {VERSION}")
    files = checker.of(document, "document", "files", list) or []
    courses = checker.of(document, "document", "courses", list, required=False) or []
    checked_files, ids = [], set()
    for index, record in enumerate(files):
        where = f"files[{index}]"
        if not isinstance(record, dict):
            checker.error(where, "must be an object")
            continue
        checked = _check_file(checker, record, where)
        if checked["id"] is not None:
            if checked["id"] in ids:
                checker.error(f"{where}.id", f"{checked['id']} is used by another file too")
            ids.add(checked["id"])
        checked_files.append(checked)
    checked_courses = []
    for index, record in enumerate(courses):
        where = f"courses[{index}]"
        if not isinstance(record, dict):
            checker.error(where, "must be an object")
            continue
        checked_courses.append(_check_course(checker, record, where, ids))
    if checker.errors:
        raise ImportRefused(checker.errors)
    return checked_files, checked_courses


def _check_content(checker, record, where):
    """The fields a file and each of its versions both have: what the content is and where it is stored."""
    checked = {}
    kind = checker.of(record, where, "kind", str)
    if kind is not None and kind not in KINDS:
        checker.error(f"{where}.kind", f"must be one of {', '.join(KINDS)}")
    checked["kind"] = kind
    checked["mime_type"] = checker.text(record, where, "mime_type", 127)
    checked["size_bytes"] = checker.count(record, where, "size_bytes")
    sha = checker.of(record, where, "sha256", str)
    if sha is not None and not _SHA256.fullmatch(sha):
        checker.error(f"{where}.sha256", "must be 64 lower-case hexadecimal digits")
    checked["sha256"] = sha
    checked["storage_key"] = checker.text(record, where, "storage_key", 512)
    checked["thumbnail_key"] = checker.text(record, where, "thumbnail_key", 512, required=False)
    duration = checker.of(record, where, "duration_seconds", (int, float), required=False)
    checked["duration_seconds"] = float(duration) if duration is not None else None
    for name in ("width", "height", "page_count"):
        checked[name] = checker.count(record, where, name, required=False, maximum=10**7)
    for name in ("video_codec", "audio_codec"):
        checked[name] = checker.text(record, where, name, 32, required=False)
    checked["failure_reason"] = checker.text(record, where, "failure_reason", 5000, required=False)
    return checked


def _check_file(checker, record, where):
    checked = {"id": checker.count(record, where, "id", maximum=2**31 - 1)}
    checked["name"] = checker.text(record, where, "name", 255, rule=_name)
    checked["original_name"] = checker.text(record, where, "original_name", 255, required=False) or checked["name"]
    checked.update(_check_content(checker, record, where))
    status = checker.of(record, where, "status", str)
    if status is not None and status not in STATUSES:
        checker.error(f"{where}.status", f"must be one of {', '.join(STATUSES)}")
    checked["status"] = status
    checked["category"] = checker.text(record, where, "category", 64, required=False, rule=clean_category) or ""
    checked["description"] = checker.text(record, where, "description", 5000, required=False, rule=clean_description) or ""
    checked["alt_text"] = checker.text(record, where, "alt_text", MAX_ALT_TEXT_LENGTH, required=False, rule=clean_alt_text) or ""
    for name in ("created_at", "updated_at", "ready_at", "deleted_at", "unlinked_at"):
        checked[name] = checker.moment(record, where, name)
    tags = checker.of(record, where, "tags", list, required=False) or []
    if len(tags) > MAX_TAGS_PER_FILE:
        checker.error(f"{where}.tags", TOO_MANY_TAGS)
    names = []
    for number, raw in enumerate(tags):
        if not isinstance(raw, str):
            checker.error(f"{where}.tags[{number}]", "must be text")
            continue
        try:
            names.append(_tag(raw))
        except EditRefused as refusal:
            checker.error(f"{where}.tags[{number}]", str(refusal))
    checked["tags"] = list(dict.fromkeys(names))
    checked["versions"] = []
    numbers = set()
    for number, version in enumerate(checker.of(record, where, "versions", list, required=False) or []):
        at = f"{where}.versions[{number}]"
        if not isinstance(version, dict):
            checker.error(at, "must be an object")
            continue
        value = {"number": checker.count(version, at, "number", required=False, maximum=10**6)}
        if value["number"] is not None:
            if value["number"] in numbers:
                checker.error(f"{at}.number", f"version {value['number']} is there twice")
            numbers.add(value["number"])
        vstatus = checker.of(version, at, "status", str)
        if vstatus is not None and vstatus not in ("processing", "ready", "failed"):
            checker.error(f"{at}.status", "must be processing, ready or failed")
        value["status"] = vstatus
        value["original_name"] = checker.text(version, at, "original_name", 255)
        value.update(_check_content(checker, version, at))
        value["restored_from"] = checker.count(version, at, "restored_from", required=False, maximum=10**6)
        value["created_at"] = checker.moment(version, at, "created_at")
        value["current_since"] = checker.moment(version, at, "current_since")
        checked["versions"].append(value)
    checked["captions"] = _check_captions(checker, record, where)
    checked["history"] = []
    for number, event in enumerate(checker.of(record, where, "history", list, required=False) or []):
        at = f"{where}.history[{number}]"
        if not isinstance(event, dict):
            checker.error(at, "must be an object")
            continue
        details = event.get("details") or {}
        if not isinstance(details, dict):
            checker.error(f"{at}.details", "must be an object")
        checked["history"].append({"action": checker.text(event, at, "action", 32),
                                   "description": checker.text(event, at, "description", 2000),
                                   "details": details if isinstance(details, dict) else {},
                                   "created_at": checker.moment(event, at, "created_at")})
    return checked


def _check_captions(checker, record, where):
    """A file's caption tracks: a known language each (once), a label, and WebVTT that passes the
    upload's own checks (its refusal, with the line, under the track's place)."""
    checked, languages = [], set()
    for number, track in enumerate(checker.of(record, where, "captions", list, required=False) or []):
        at = f"{where}.captions[{number}]"
        if not isinstance(track, dict):
            checker.error(at, "must be an object")
            continue
        language = checker.of(track, at, "language", str)
        if language is not None and language not in LANGUAGES:
            checker.error(f"{at}.language", f"“{language}” is not one of the caption languages ({', '.join(LANGUAGES)})")
            continue
        if language in languages:
            checker.error(f"{at}.language", f"there are two tracks in {LANGUAGES[language]}")
        languages.add(language)
        label = checker.text(track, at, "label", 255, required=False,
                             rule=lambda raw, language=language: clean_label(raw, language or "en"))
        vtt = checker.text(track, at, "vtt", MAX_CAPTION_BYTES)
        if vtt is None:
            continue
        try:
            captions = read_captions(vtt.encode())
        except CaptionError as refusal:
            checker.error(f"{at}.vtt", str(refusal))
            continue
        checked.append({"language": language, "label": label or LANGUAGES.get(language, ""), "vtt": captions.vtt,
                        "search_text": searchable(cue.text for cue in captions.cues), "cue_count": len(captions.cues),
                        "source_name": checker.text(track, at, "source_name", 255, required=False) or "",
                        "created_at": checker.moment(track, at, "created_at"),
                        "updated_at": checker.moment(track, at, "updated_at")})
    return checked


def _course_title(raw):
    return clean_title(raw)


def _chapter_title(raw):
    return clean_title(raw, "chapter title")


def _check_course(checker, record, where, file_ids):
    checked = {"title": checker.text(record, where, "title", 200, rule=_course_title),
               "created_at": checker.moment(record, where, "created_at"),
               "updated_at": checker.moment(record, where, "updated_at"), "chapters": []}
    for number, chapter in enumerate(checker.of(record, where, "chapters", list, required=False) or []):
        at = f"{where}.chapters[{number}]"
        if not isinstance(chapter, dict):
            checker.error(at, "must be an object")
            continue
        value = {"title": checker.text(chapter, at, "title", 200, rule=_chapter_title), "items": []}
        for position, item in enumerate(checker.of(chapter, at, "items", list, required=False) or []):
            item_at = f"{at}.items[{position}]"
            if not isinstance(item, dict):
                checker.error(item_at, "must be an object")
                continue
            target = checker.count(item, item_at, "file", maximum=2**31 - 1)
            if target is not None and target not in file_ids:
                checker.error(f"{item_at}.file", f"no file with id {target} in this document")
            value["items"].append({"file": target, "title": checker.text(item, item_at, "title", 255, rule=_name),
                                   "created_at": checker.moment(item, item_at, "created_at")})
        checked["chapters"].append(value)
    return checked


def plan(owner, document):
    """Check the document and work out what importing it into `owner`'s library would do."""
    files, courses = check(document)
    result = Plan(files=files, courses=courses)
    shas = list({record["sha256"] for record in files})
    existing = {}
    for start in range(0, len(shas), BATCH):
        for media in db.session.scalars(owned_by(MediaFile, owner.id).where(MediaFile.sha256.in_(shas[start:start + BATCH]))
                                        .order_by(MediaFile.id)):
            existing.setdefault(media.sha256, media)
    wanted, copying = set(), set()
    for record in files:
        found = existing.get(record["sha256"])
        if found is not None:
            result.reused[record["id"]] = found
            if len(result.conflicts) < MAX_ERRORS:
                result.conflicts.append(f"“{record['name']}”: its content is in the library already as “{found.name}”, "
                                        "which is used instead (its tags and links are added to it)")
        wanted.update(record["tags"])
        for version in record["versions"] if found is None else ():
            if version["status"] == "ready":
                _need_copy(result, copying, version["storage_key"], content_key(owner.id, version["sha256"]), version["size_bytes"])
        if found is None:
            _need_copy(result, copying, record["storage_key"], content_key(owner.id, record["sha256"]), record["size_bytes"])
    names = list(wanted)
    for start in range(0, len(names), BATCH):
        result.existing_tags.update(db.session.scalars(owned_by(Tag, owner.id).with_only_columns(Tag.name)
                                                       .where(Tag.name.in_(names[start:start + BATCH]))))
    result.new_tags = wanted - result.existing_tags
    result.chapters = sum(len(course["chapters"]) for course in courses)
    result.links = sum(len(chapter["items"]) for course in courses for chapter in course["chapters"])
    existing_titles = set(db.session.scalars(owned_by(Course, owner.id).with_only_columns(Course.title)))
    for course in courses:
        if course["title"] in existing_titles and len(result.conflicts) < MAX_ERRORS:
            result.conflicts.append(f"A course “{course['title']}” exists already: the import adds a second one")
    return result


def _need_copy(result, copying, source, target, size):
    """Note a copy of `source` to `target` once (`copying`: the targets noted so far)."""
    if source != target and target not in copying:
        copying.add(target)
        result.copies.append((source, target, size))


# ---- import: doing -------------------------------------------------------------------------------

def import_library(owner, document, on_progress=None):
    """Import the document into `owner`'s library in one transaction; returns the Plan it carried out.
    ImportRefused for a bad document (nothing changes), StorageError when content cannot be copied."""
    result = plan(owner, document)
    storage = get_storage()
    copied = []
    try:
        for number, (source, target, _size) in enumerate(result.copies, start=1):
            if not storage.exists(target):
                storage.copy(source, target)
                copied.append(target)
            if on_progress and number % 100 == 0:
                on_progress("copying", number, len(result.copies))
        _write(owner, result, on_progress)
        db.session.commit()
    except Exception:
        db.session.rollback()
        if copied:  # the rows never came: the copies go again (after the storage says they may)
            schedule_deletion(copied)
            db.session.commit()
        raise
    return result


def _write(owner, result, on_progress):
    now = utcnow()
    ids = {}  # document file id -> new (or reused) file id
    tag_ids = _tags(owner.id, result.new_tags | result.existing_tags, now)
    for start in range(0, len(result.files), BATCH):
        chunk = result.files[start:start + BATCH]
        rows = []
        for record in chunk:
            if record["id"] in result.reused:
                ids[record["id"]] = result.reused[record["id"]].id
                continue
            rows.append(_file_row(owner.id, record, now))
        if rows:
            new_ids = db.session.scalars(sa.insert(MediaFile).returning(MediaFile.id, sort_by_parameter_order=True), rows).all()
            fresh = iter(new_ids)
            for record in chunk:
                if record["id"] not in result.reused:
                    ids[record["id"]] = next(fresh)
        links, versions, events, tracks = [], [], [], []
        for record in chunk:
            media_id = ids[record["id"]]
            links += [{"media_id": media_id, "tag_id": tag_ids[name]} for name in record["tags"]]
            if record["id"] in result.reused:
                continue
            versions += [{**version, "media_id": media_id, "owner_id": owner.id,
                          "storage_key": content_key(owner.id, version["sha256"]),
                          "thumbnail_key": version["thumbnail_key"] and thumbnail_key_of(owner.id, version["sha256"]),
                          "created_at": version["created_at"] or now} for version in record["versions"]]
            tracks += [{**track, "media_id": media_id, "owner_id": owner.id, "created_at": track["created_at"] or now,
                        "updated_at": track["updated_at"] or now} for track in record["captions"]]
            events += [{"media_id": media_id, "owner_id": owner.id, "actor_id": None, "media_name": record["name"],
                        "action": event["action"], "description": event["description"], "details": event["details"],
                        "created_at": event["created_at"] or now} for event in record["history"]]
        if links:
            _link_tags(links)
            reused = [ids[record["id"]] for record in chunk if record["id"] in result.reused and record["tags"]]
            if reused:
                refresh_search_text(reused, now)
        if versions:
            db.session.execute(sa.insert(MediaVersion), versions)
        if events:
            db.session.execute(sa.insert(MediaEvent), events)
        if tracks:
            db.session.execute(sa.insert(Caption), tracks)
        if on_progress:
            on_progress("files", min(start + BATCH, len(result.files)), len(result.files))
    linked = set()
    for course in result.courses:
        row = Course(owner_id=owner.id, title=course["title"], created_at=course["created_at"] or now,
                     updated_at=course["updated_at"] or now)
        db.session.add(row)
        db.session.flush()
        for position, chapter in enumerate(course["chapters"], start=1):
            chapter_row = Chapter(course_id=row.id, title=chapter["title"], position=position)
            db.session.add(chapter_row)
            db.session.flush()
            items = [{"chapter_id": chapter_row.id, "media_id": ids[item["file"]], "title": item["title"][:255],
                      "position": number, "created_at": item["created_at"] or now}
                     for number, item in enumerate(chapter["items"], start=1)]
            if items:
                db.session.execute(sa.insert(ChapterItem), items)
                linked.update(item["media_id"] for item in items)
    refresh_usage(linked)


def _file_row(owner_id, record, now):
    sha = record["sha256"]
    row = {name: record[name] for name in ("name", "original_name", "kind", "mime_type", "size_bytes", "sha256",
                                           "duration_seconds", "width", "height", "page_count", "video_codec",
                                           "audio_codec", "category", "description", "alt_text", "status", "failure_reason",
                                           "ready_at", "deleted_at", "unlinked_at")}
    row.update(owner_id=owner_id, name_key=record["name"].lower(),
               search_text=search_text_of(record["name"], record["tags"], record["category"], record["description"]),
               storage_key=content_key(owner_id, sha),
               thumbnail_key=record["thumbnail_key"] and thumbnail_key_of(owner_id, sha),
               created_at=record["created_at"] or now, updated_at=record["updated_at"] or now, usage_count=0)
    if row["status"] == "deleted" and row["deleted_at"] is None:
        row["deleted_at"] = now
    return row


def _tags(owner_id, names, now):
    found = {}
    names = sorted(names)
    for start in range(0, len(names), BATCH):
        chunk = names[start:start + BATCH]
        have = dict(db.session.execute(owned_by(Tag, owner_id).with_only_columns(Tag.name, Tag.id).where(Tag.name.in_(chunk))).all())
        missing = [name for name in chunk if name not in have]
        if missing:
            db.session.execute(sa.insert(Tag), [{"owner_id": owner_id, "name": name, "created_at": now} for name in missing])
            have.update(db.session.execute(owned_by(Tag, owner_id).with_only_columns(Tag.name, Tag.id)
                                           .where(Tag.name.in_(missing))).all())
        found.update(have)
    return found


def _link_tags(links):
    pairs = {(link["media_id"], link["tag_id"]) for link in links}
    have = set(db.session.execute(sa.select(media_tags.c.media_id, media_tags.c.tag_id).where(
        media_tags.c.media_id.in_({media_id for media_id, _tag in pairs}))).all())
    fresh = [{"media_id": media_id, "tag_id": tag_id} for media_id, tag_id in sorted(pairs - have)]
    if fresh:
        db.session.execute(sa.insert(media_tags), fresh)
