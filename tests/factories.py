"""Libraries made in bulk: rows written directly (with stored bytes on local disk when asked), as
thousands of real uploads would take minutes. Needs an app context."""
import hashlib
import re
import tempfile
from pathlib import Path

import sqlalchemy as sa

from mediamgr.auth.models import User
from mediamgr.courses.models import Chapter
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile, Tag, media_tags
from mediamgr.storage import content_key, get_storage
from mediamgr.timeutil import utcnow


MIME_TYPES = {"document": ("application/pdf", ".pdf"), "video": ("video/mp4", ".mp4"),
              "image": ("image/png", ".png"), "audio": ("audio/mpeg", ".mp3")}


def make_files(email, count, tags=(), stored=False, trashed=False, prefix="file", kind="document"):
    """`count` ready files of `kind` for the user with `email`, tagged with `tags`; returns their ids."""
    mime_type, extension = MIME_TYPES[kind]
    owner = db.session.scalar(sa.select(User).where(User.email == email))
    now = utcnow()
    start = db.session.scalar(sa.select(sa.func.count()).where(MediaFile.owner_id == owner.id)) or 0
    rows = []
    for number in range(start, start + count):
        name = f"{prefix} {number:05d}{extension}"
        sha = hashlib.sha256(f"{email}-{number}".encode()).hexdigest()
        rows.append({"owner_id": owner.id, "name": name, "name_key": name.lower(),
                     "search_text": " ".join([name.lower(), *sorted(tags)]), "original_name": name,
                     "kind": kind, "mime_type": mime_type, "size_bytes": 1000 + number,
                     "sha256": sha, "storage_key": content_key(owner.id, sha), "category": "", "description": "",
                     "status": "deleted" if trashed else "ready", "created_at": now, "updated_at": now,
                     "ready_at": now, "deleted_at": now if trashed else None})
    db.session.execute(sa.insert(MediaFile), rows)
    ids = list(db.session.scalars(sa.select(MediaFile.id).where(MediaFile.owner_id == owner.id)
                                  .order_by(MediaFile.id.desc()).limit(count)))[::-1]
    for name in tags:
        tag = db.session.scalar(sa.select(Tag).where(Tag.owner_id == owner.id, Tag.name == name))
        if tag is None:
            tag = Tag(owner_id=owner.id, name=name)
            db.session.add(tag)
            db.session.flush()
        db.session.execute(sa.insert(media_tags), [{"media_id": media_id, "tag_id": tag.id} for media_id in ids])
    db.session.commit()
    if stored:
        storage = get_storage()
        for media in db.session.scalars(sa.select(MediaFile).where(MediaFile.id.in_(ids))):
            path = Path(storage.path_for(media.storage_key))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"%PDF-1.4 test " + media.sha256.encode())
    return ids


def stored_files(email, contents, trashed=False, kind="document"):
    """Ready files named and filled as `contents` (name -> bytes) says, their bytes in the app's storage
    (local disk or S3), in that order; returns their ids."""
    ids = make_files(email, len(contents), trashed=trashed, kind=kind)
    storage = get_storage()
    for media_id, (name, data) in zip(ids, contents.items()):
        media = db.session.get(MediaFile, media_id)
        with tempfile.NamedTemporaryFile() as handle:
            handle.write(data)
            handle.flush()
            storage.put_file(media.storage_key, handle.name, media.mime_type)
        media.name, media.original_name, media.size_bytes = name, name, len(data)
        media.refresh_search_text()
    db.session.commit()
    return ids


def course_with_chapters(browser, *titles):
    """A course "Algorithms" with chapters of these titles, made through the pages; (course id, chapter ids)."""
    answer = browser.post("/courses", {"title": "Algorithms"})
    course_id = int(re.search(r"/courses/(\d+)/edit", answer.headers["HX-Redirect"]).group(1))
    for title in titles:
        browser.post(f"/courses/{course_id}/chapters", {"title": title})
    return course_id, list(db.session.scalars(sa.select(Chapter.id).where(Chapter.course_id == course_id)
                                              .order_by(Chapter.position)))


def link(browser, chapter_id, media_ids):
    return browser.post(f"/chapters/{chapter_id}/items", {"media": [str(i) for i in media_ids]})
