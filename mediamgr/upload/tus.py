"""Resumable uploads: the tus 1.0.0 protocol at /uploads/ (core, and the creation,
creation-with-upload, termination, expiration and checksum extensions).

Bytes stream from the request into the upload's staging file at its offset, never held whole in
memory; the offset is kept in the database after every PATCH, so another (or a restarted) web
process resumes at the right place. When the last byte arrives the file takes the same road as
any upload (accept_staged_file): type check, hash, the job to storage, probe, thumbnail.
"""
import base64
import binascii
import fcntl
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from datetime import timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import humanize
import sqlalchemy as sa
from flask import Response, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import ClientDisconnected

from ..auth.tokens import TOKENS_DO_NOT_LINK, signed_in_with_token
from ..courses.service import own_chapter
from ..extensions import db
from ..parsing import parse_count
from ..library.models import MediaFile
from ..library.quotas import OverQuota
from ..library.quotas import ensure_room as ensure_quota_room
from ..library.versions import ReplaceRefused
from ..scoping import get_owned_or_404, owned, owned_by
from ..timeutil import utcnow
from . import bp
from .models import ResumableUpload
from .names import sanitize_filename
from .request import upload_limit_text
from .service import STAGING_ORPHAN_SECONDS, accept_staged_file
from .sniff import SNIFF_BYTES, RejectedFile, classify
from .space import NOTHING_KEPT, RESUME_LATER, OutOfSpace, ensure_room, is_disk_full
from .staging import COPY_CHUNK, FinishedFile

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
CHECKSUMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "md5": hashlib.md5}
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
CHECKSUM_MISMATCH = 460  # tus checksum extension: "Checksum Mismatch"
WRITER_WAIT_SECONDS = 5  # a cut-off PATCH finishes (keeps what arrived, commits) well within this


def _folder():
    folder = Path(current_app.config["STAGING_DIR"]) / "resumable"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def part_path(upload_id):
    return _folder() / f"{upload_id}.part"


def _expires_header(upload):
    return format_datetime(upload.expires_at.replace(tzinfo=timezone.utc), usegmt=True)


def _answer(status, message="", **headers):
    response = Response(message, status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = str(value)
    return response


@bp.after_app_request
def _tus_headers(response):
    if request.path.startswith("/uploads/"):
        response.headers["Tus-Resumable"] = TUS_VERSION
        response.headers["Cache-Control"] = "no-store"
    return response


def _require_tus():
    """Every request but OPTIONS names the protocol version; only signed-in users upload."""
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        abort(_answer(412, f"This server speaks tus {TUS_VERSION}.", Tus_Version=TUS_VERSION))
    if not current_user.is_authenticated:
        abort(_answer(401, "Log in to upload."))


def _live_upload(upload_id):
    """The signed-in user's unfinished upload, or 404 (someone else's, or unknown) / 410 (expired)."""
    upload = get_owned_or_404(ResumableUpload, upload_id)
    if upload.expires_at <= utcnow() and not upload.is_complete:
        abort(_answer(410, "This upload expired; start it again."))
    return upload


@bp.route("/uploads/", methods=["OPTIONS"], provide_automatic_options=False)
@bp.route("/uploads/<upload:upload_id>", methods=["OPTIONS"], provide_automatic_options=False)
def tus_options(upload_id=None):
    return _answer(204, Tus_Version=TUS_VERSION, Tus_Extension=EXTENSIONS,
                   Tus_Max_Size=current_app.config["MAX_UPLOAD_BYTES"],
                   Tus_Checksum_Algorithm=",".join(CHECKSUMS))


@bp.post("/uploads/")
def tus_create():
    """Creation: a new upload of Upload-Length bytes; with a body, its first bytes too."""
    _require_tus()
    if request.headers.get("Upload-Defer-Length"):
        abort(_answer(400, "Give the upload's length (Upload-Length); deferred lengths are not supported."))
    length = parse_count(request.headers.get("Upload-Length", ""))
    if length is None:
        abort(_answer(400, "Upload-Length must be the file's size in bytes (digits 0-9)."))
    if length > current_app.config["MAX_UPLOAD_BYTES"]:
        abort(_answer(413, f"This file is larger than the {upload_limit_text()} upload limit."))
    if length == 0:
        abort(_answer(400, "This file is empty (0 bytes); nothing was uploaded."))
    _within_allowance(length)
    try:
        ensure_quota_room(current_user.id, length)
    except OverQuota as refusal:
        abort(_answer(413, str(refusal)))
    _ensure_room(length, NOTHING_KEPT)  # the whole file must fit above the reserve
    metadata_header = request.headers.get("Upload-Metadata", "")[:4000]
    metadata = _parse_metadata(metadata_header)
    filename = sanitize_filename(metadata.get("filename") or metadata.get("name") or "", fallback="upload")
    if metadata.get("chapter") and signed_in_with_token():
        abort(_answer(403, TOKENS_DO_NOT_LINK))
    if metadata.get("chapter") and own_chapter(metadata["chapter"]) is None:
        abort(_answer(404, "That chapter does not exist (any more)."))
    if "replace" in metadata:
        _replace_target(metadata["replace"])  # another user's or an unknown file: 404 before any byte
    upload = ResumableUpload(id=secrets.token_hex(16), owner_id=current_user.id, length=length, offset=0,
                             filename=filename, metadata_header=metadata_header, checked=False,
                             expires_at=utcnow() + timedelta(hours=current_app.config["UPLOAD_EXPIRY_HOURS"]))
    part_path(upload.id).touch()
    db.session.add(upload)
    db.session.commit()
    location = url_for("upload.tus_upload", upload_id=upload.id, _external=True)
    headers = {"Location": location, "Upload_Expires": _expires_header(upload)}
    if request.content_length or request.headers.get("Transfer-Encoding"):
        if request.mimetype != OFFSET_CONTENT_TYPE:
            abort(_answer(415, f"Send the upload's bytes as {OFFSET_CONTENT_TYPE}."))
        result = _receive(upload)
        if result.status_code >= 300:
            return result
        headers.update(Upload_Offset=upload.offset)
        if "X-Operation-Id" in result.headers:  # the POST carried the whole file
            headers["X_Operation_Id"] = result.headers["X-Operation-Id"]
    return _answer(201, **headers)


@bp.route("/uploads/<upload:upload_id>", methods=["HEAD"])
def tus_upload(upload_id):
    """Where an upload stands: its offset, length and metadata."""
    _require_tus()
    upload = _live_upload(upload_id)
    headers = {"Upload_Offset": upload.offset, "Upload_Length": upload.length, "Upload_Expires": _expires_header(upload)}
    if upload.metadata_header:
        headers["Upload_Metadata"] = upload.metadata_header
    if upload.operation_id:
        headers["X_Operation_Id"] = upload.operation_id
    return _answer(200, **headers)


@bp.get("/uploads/<upload:upload_id>/row")
@login_required
def paused_row(upload_id):
    """The activity panel's row of an unfinished upload, with the offset the server holds. A page
    loaded just after its PATCH was cut off (a reload does that) may have drawn the offset from before
    it; the row asks again here, and the answer waits until no request is writing the upload."""
    upload = get_owned_or_404(ResumableUpload, upload_id)
    _wait_for_writer(upload.id)
    db.session.refresh(upload)
    if upload.completed_at is not None:
        return ""  # it finished meanwhile: the row goes, the library shows the file
    return render_template("upload/_paused.html", upload=upload, current=True)


def _wait_for_writer(upload_id):
    """Until no PATCH holds the upload's file (it locks it while it writes and commits), at most
    WRITER_WAIT_SECONDS."""
    deadline = time.monotonic() + WRITER_WAIT_SECONDS
    try:
        part = open(part_path(upload_id), "rb")
    except FileNotFoundError:
        return
    with part:
        while True:
            try:
                fcntl.flock(part, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.05)


@bp.route("/uploads/<upload:upload_id>", methods=["PATCH"])
def tus_patch(upload_id):
    """Core: bytes at Upload-Offset, appended to the upload."""
    _require_tus()
    if request.mimetype != OFFSET_CONTENT_TYPE:
        abort(_answer(415, f"Send the upload's bytes as {OFFSET_CONTENT_TYPE}."))
    upload = _live_upload(upload_id)
    offset = parse_count(request.headers.get("Upload-Offset", ""))
    if offset is None:
        abort(_answer(400, "Upload-Offset must be a number of bytes (digits 0-9)."))
    if offset != upload.offset:
        abort(_answer(409, f"This upload is at byte {upload.offset:,}, not {offset:,}: ask with HEAD and resume there.",
                      Upload_Offset=upload.offset))
    if upload.is_complete:
        abort(_answer(409, "This upload is already complete."))
    _ensure_room(0, RESUME_LATER)
    return _receive(upload)


def _within_allowance(length):
    """One user's unfinished resumable uploads are bounded in number and in the bytes they reserve, so
    nobody can hold the staging disk with uploads that never finish."""
    unfinished = owned_by(ResumableUpload, current_user.id).where(ResumableUpload.completed_at.is_(None),
                                                                   ResumableUpload.expires_at > utcnow())
    rows = unfinished.subquery()
    count, reserved = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(rows.c.length), 0))).one()
    config = current_app.config
    if count >= config["RESUMABLE_UPLOADS_PER_USER"]:
        abort(_answer(429, f"You have {count} unfinished uploads. Finish or cancel some of them (the upload panel "
                           "lists them) before you start another."))
    if reserved + length > config["RESUMABLE_RESERVED_BYTES"]:
        limit = humanize.naturalsize(config["RESUMABLE_RESERVED_BYTES"], binary=True, format="%.0f")
        abort(_answer(413, f"Your unfinished uploads already reserve {humanize.naturalsize(reserved, binary=True)}; "
                           f"with this one they would pass the {limit} allowed. Finish or cancel some first."))


def _ensure_room(incoming, message):
    try:
        ensure_room(incoming, message)
    except OutOfSpace as refusal:
        abort(_answer(507, refusal.description))


@bp.route("/uploads/<upload:upload_id>", methods=["DELETE"])
def tus_delete(upload_id):
    """Termination: the client gives the upload up; its bytes go."""
    _require_tus()
    upload = get_owned_or_404(ResumableUpload, upload_id)
    if upload.is_complete:
        abort(_answer(409, "This upload is complete; delete the file from the library instead."))
    db.session.delete(upload)
    db.session.commit()
    part_path(upload.id).unlink(missing_ok=True)
    return _answer(204)


def _receive(upload):
    """Stream the request body into the upload at its offset; on the last byte, hand the file on."""
    checksum = _checksum_request()
    remaining = upload.length - upload.offset
    if request.content_length is not None and request.content_length > remaining:
        abort(_answer(413, f"This upload needs {remaining:,} more bytes, not {request.content_length:,}."))
    path = part_path(upload.id)
    with open(path, "r+b", buffering=0) as part:  # unbuffered: nothing is left to write after a failure
        try:
            fcntl.flock(part, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            abort(_answer(423, "Another request is still sending this upload; try again in a moment."))
        part.truncate(upload.offset)  # bytes past the committed offset (a crashed request's) are not trusted
        part.seek(upload.offset)
        digest, head = _hash_state(upload)
        before = digest.copy(), bytes(head)  # what the hash is if this request's bytes are given back
        try:
            written, complete_stream = _copy_body(part, remaining, checksum, digest, head)
        except OSError as error:
            if not is_disk_full(error):
                raise
            part.truncate(upload.offset)  # the disk is not left full, and HEAD and the file agree
            _keep_hash_state(upload.id, upload.offset, *before)
            abort(_answer(507, RESUME_LATER, Upload_Offset=upload.offset))
        if checksum is not None and checksum[1].digest() != checksum[2]:
            part.truncate(upload.offset)
            _keep_hash_state(upload.id, upload.offset, *before)
            return _answer(CHECKSUM_MISMATCH, "The chunk's checksum does not match its bytes; it was discarded.",
                           Upload_Offset=upload.offset)
        if not written:  # nothing was kept (a body cut short that a checksum had to cover whole)
            digest, head = before[0], bytearray(before[1])
        if not upload.checked and (upload.offset + written >= min(SNIFF_BYTES, upload.length)):
            try:
                classify(head, upload.filename)
            except RejectedFile as refusal:
                _forget(upload)
                abort(_answer(415, str(refusal)))
            upload.checked = True
        upload.offset += written
        db.session.commit()  # under the file's lock: a reader that waits for it sees this offset (paused_row)
    _keep_hash_state(upload.id, upload.offset, digest, head)
    headers = {"Upload_Offset": upload.offset, "Upload_Expires": _expires_header(upload)}
    if upload.offset < upload.length:
        return _answer(204 if complete_stream else 400, "" if complete_stream else "The body ended early.", **headers)
    operation = _finish(upload, digest, head)
    return _answer(204, X_Operation_Id=operation.id, **headers)


def _copy_body(part, remaining, checksum, digest, head):
    """Copy the body into `part`, hashing it as it goes (`digest`, and the file's first bytes in `head`);
    returns (bytes written, whether the body arrived whole). A body that ended early keeps what
    arrived, unless a checksum must cover all of it: then nothing is written (0)."""
    body = request.upload_body
    written = 0
    while written < remaining:
        try:
            chunk = body.read(min(COPY_CHUNK, remaining - written))
        except (OSError, ClientDisconnected):  # the connection dropped: keep what arrived (unless a checksum must cover it)
            break
        if not chunk:
            break
        _write_all(part, chunk)
        digest.update(chunk)
        if checksum is not None:
            checksum[1].update(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        written += len(chunk)
    expected = request.content_length
    complete_stream = expected is None or written == expected
    if checksum is not None and not complete_stream:
        part.truncate(part.tell() - written)
        return 0, False
    return written, complete_stream


# upload id -> (offset, SHA-256 of the bytes before it, the file's first bytes), for the uploads whose
# last PATCH ended in this process: the next one goes on hashing from there, and the last needs no
# second read of the file. A PATCH that reaches another process (or a restarted one) hashes the bytes
# before its offset once.
HASH_STATES = OrderedDict()
HASH_STATES_KEPT = 1000
_hash_states_lock = threading.Lock()


def _hash_state(upload):
    """(running SHA-256 of the upload's first `offset` bytes, a bytearray of its first bytes)."""
    with _hash_states_lock:
        kept = HASH_STATES.pop(upload.id, None)
    if kept and kept[0] == upload.offset:
        return kept[1], bytearray(kept[2])
    digest, head, left = hashlib.sha256(), bytearray(), upload.offset
    with open(part_path(upload.id), "rb") as part:
        while left and (chunk := part.read(min(COPY_CHUNK, left))):
            digest.update(chunk)
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            left -= len(chunk)
    return digest, head


def _keep_hash_state(upload_id, offset, digest, head):
    with _hash_states_lock:
        HASH_STATES[upload_id] = (offset, digest, bytes(head))
        while len(HASH_STATES) > HASH_STATES_KEPT:
            HASH_STATES.popitem(last=False)


def _forget_hash_state(upload_id):
    with _hash_states_lock:
        HASH_STATES.pop(upload_id, None)


def _write_all(part, data):
    view = memoryview(data)
    while view:
        view = view[part.write(view):]


def _checksum_request():
    """(algorithm, running hash, expected digest) from Upload-Checksum, or None."""
    header = request.headers.get("Upload-Checksum")
    if not header:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        abort(_answer(400, f"Checksum algorithm {algorithm[:20]!r} is not supported; use one of {', '.join(CHECKSUMS)}."))
    try:
        expected = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        abort(_answer(400, "Upload-Checksum must be an algorithm and a base64 digest."))
    return algorithm, CHECKSUMS[algorithm](), expected


def _finish(upload, digest, head):
    """The last byte arrived: the file takes the normal road into the library (hashed already)."""
    _forget_hash_state(upload.id)
    staged = FinishedFile(part_path(upload.id), upload.filename, digest.hexdigest(), bytes(head), upload.length)
    metadata = _parse_metadata(upload.metadata_header)
    chapter = own_chapter(metadata.get("chapter", ""))
    replacing = _replace_target(metadata["replace"]) if "replace" in metadata else None
    try:
        operation = accept_staged_file(current_user, staged, chapter and chapter.id, replacing=replacing)
    except RejectedFile as refusal:
        _forget(upload)
        abort(_answer(415, str(refusal)))
    except ReplaceRefused as refusal:
        _forget(upload)
        abort(_answer(refusal.status, str(refusal)))
    except OverQuota as refusal:
        _forget(upload)
        abort(_answer(413, str(refusal)))
    upload.completed_at = utcnow()
    upload.operation_id = operation.id
    db.session.commit()
    return operation


def _replace_target(raw_media_id):
    """The file whose content an upload replaces (metadata `replace`): one the user may change, or 404."""
    media_id = parse_count(raw_media_id or "")
    media = db.session.scalar(owned(MediaFile).where(MediaFile.id == media_id)) if media_id else None
    if media is None:
        abort(_answer(404, "The file to replace does not exist (any more)."))
    return media


def _forget(upload):
    _forget_hash_state(upload.id)
    db.session.delete(upload)
    db.session.commit()
    part_path(upload.id).unlink(missing_ok=True)


def _parse_metadata(header):
    """Upload-Metadata: comma-separated "key base64(value)" pairs; values decoded as UTF-8."""
    values = {}
    for pair in header.split(","):
        key, _, encoded = pair.strip().partition(" ")
        if not key:
            continue
        try:
            values[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            abort(_answer(400, "Upload-Metadata values must be base64."))
    return values


def expire_uploads():
    """Remove unfinished uploads past their expiry, with their staging files, and part files that no
    upload owns (a row deleted while its bytes stayed); returns how many uploads expired."""
    expired = db.session.scalars(db.select(ResumableUpload).where(ResumableUpload.expires_at <= utcnow(),
                                                                  ResumableUpload.completed_at.is_(None))).all()
    for upload in expired:
        part_path(upload.id).unlink(missing_ok=True)
        db.session.delete(upload)
    db.session.commit()
    cutoff = time.time() - STAGING_ORPHAN_SECONDS
    parts = {path.stem: path for path in _folder().glob("*.part") if path.stat().st_mtime < cutoff}
    if parts:
        owned = set(db.session.scalars(db.select(ResumableUpload.id).where(ResumableUpload.id.in_(list(parts)))))
        for upload_id, path in parts.items():
            if upload_id not in owned:
                path.unlink(missing_ok=True)
    return len(expired)

