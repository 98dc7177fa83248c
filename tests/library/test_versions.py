"""Replace a file with new content and keep the old as a version: the id, name, tags and course links
stay, the new content is served; versions are listed, restored (as a new version), refused when of
another kind or identical, kept with a trashed file and removed (bytes only when nothing else uses
them) when it is deleted for good."""
import re

import pytest
import sqlalchemy as sa

from factories import course_with_chapters, link
from mediamgr.extensions import db
from mediamgr.library.models import MediaEvent, MediaFile, MediaVersion
from mediamgr.progress.models import Operation
from mediamgr.storage import get_storage


def upload_ready(browser, worker, name, content):
    answer = browser.upload(name, content)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    worker()
    return db.session.scalars(sa.select(MediaFile).order_by(MediaFile.id.desc()).limit(1)).one()


def replace(browser, media_id, name, content):
    return browser.client.post(f"/media/{media_id}/replace", data=content, headers=browser.headers(
        htmx=False, **{"X-Filename": name, "Content-Type": "application/octet-stream",
                       "X-Requested-With": "XMLHttpRequest"}))


def fresh(media_id):
    db.session.expire_all()
    return db.session.get(MediaFile, media_id)


def versions_of(media_id):
    return list(db.session.scalars(sa.select(MediaVersion).where(MediaVersion.media_id == media_id,
                                                                 MediaVersion.number.is_not(None))
                                   .order_by(MediaVersion.number)))


def history(media_id, action):
    return [event.description for event in db.session.scalars(
        sa.select(MediaEvent).where(MediaEvent.media_id == media_id, MediaEvent.action == action).order_by(MediaEvent.id))]


@pytest.mark.both_databases
def test_replace_keeps_id_name_tags_and_links_and_serves_the_new_content(ada, worker, samples):
    old = samples.video_bytes(seconds=2)
    media = upload_ready(ada, worker, "Lecture 1.webm", old)
    media_id, old_sha, old_key = media.id, media.sha256, media.storage_key
    ada.post(f"/media/{media_id}/tags", {"tags": "week 1"})
    course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, [media_id])

    answer = replace(ada, media_id, "Lecture 1 (retake).webm", samples.video_bytes(seconds=4, size=(192, 108)))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert fresh(media_id).sha256 == old_sha  # nothing changes until the new content is ready
    worker()

    media = fresh(media_id)
    assert (media.id, media.name, media.tag_names, media.usage_count, media.status) == (
        media_id, "Lecture 1.webm", ["week 1"], 1, "ready")
    assert media.sha256 != old_sha and 3.5 < media.duration_seconds < 4.5 and (media.width, media.height) == (192, 108)
    assert get_storage().exists(media.storage_key) and get_storage().exists(old_key)
    assert media.thumbnail_key and old_sha not in media.thumbnail_key
    assert [(v.number, v.sha256) for v in versions_of(media_id)] == [(1, old_sha), (2, media.sha256)]
    assert history(media_id, "replaced") == ["Replaced with “Lecture 1 (retake).webm” (version 2)"]
    # The course editor shows the new take: its item links the same file, now four seconds long.
    editor = ada.get(f"/courses/{course}/edit").get_data(as_text=True)
    assert "0:04" in editor and "0:02" not in editor


@pytest.mark.both_databases
def test_restoring_a_version_makes_it_current_as_a_new_version(ada, worker, samples):
    media = upload_ready(ada, worker, "Lecture.webm", samples.video_bytes(seconds=2))
    media_id, first_sha = media.id, media.sha256
    replace(ada, media_id, "take2.webm", samples.video_bytes(seconds=3))
    worker()
    first = versions_of(media_id)[0]

    answer = ada.post(f"/media/{media_id}/versions/{first.id}/restore")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    media = fresh(media_id)
    assert media.sha256 == first_sha and 1.5 < media.duration_seconds < 2.5
    assert [v.number for v in versions_of(media_id)] == [1, 2, 3]
    assert versions_of(media_id)[2].sha256 == first_sha
    assert history(media_id, "restored_version") == ["Restored version 1 (as version 3)"]
    body = answer.get_data(as_text=True)
    assert "Version 3" in body and "Restore this version" in body
    # The current version has no Restore button: two non-current versions, two buttons.
    assert body.count(">Restore this version<") == 2


def test_the_versions_section_lists_every_version_newest_first(ada, worker, samples):
    media = upload_ready(ada, worker, "Photo.png", samples.png_bytes(64, 48))
    replace(ada, media.id, "photo2.png", samples.png_bytes(80, 60, color=(200, 30, 30)))
    worker()
    page = ada.get(f"/media/{media.id}").get_data(as_text=True)
    section = page[page.index('id="versions-title'):]
    assert section.index("Version 2") < section.index("Version 1")
    assert "80 × 60 px" in section and "64 × 48 px" in section and "Ada" in section
    assert "Current" in section and section.count(">Restore this version<") == 1
    assert "Replace file" in page


def test_a_replacement_of_another_kind_is_refused_before_any_byte_is_kept(ada, worker, samples, app):
    media = upload_ready(ada, worker, "Lecture.webm", samples.video_bytes(seconds=2))
    answer = replace(ada, media.id, "slide.png", samples.png_bytes())
    assert answer.status_code == 415
    assert answer.get_data(as_text=True) == ("“slide.png” is an image; a video can only be replaced by "
                                             "another video. The file is unchanged.")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Operation)) == 1
    assert versions_of(media.id)[-1].sha256 == fresh(media.id).sha256
    assert not [p for p in __import__("pathlib").Path(app.config["STAGING_DIR"]).iterdir() if p.is_file()]


def test_identical_content_and_a_trashed_file_are_refused(ada, worker, samples):
    content = samples.png_bytes()
    media = upload_ready(ada, worker, "Logo.png", content)
    answer = replace(ada, media.id, "logo again.png", content)
    assert (answer.status_code, answer.get_data(as_text=True)) == (409, "This is already the current content.")
    ada.post(f"/media/{media.id}/trash")
    answer = replace(ada, media.id, "other.png", samples.png_bytes(color=(1, 2, 3)))
    assert answer.status_code == 409 and "in the trash" in answer.get_data(as_text=True)
    assert len(versions_of(media.id)) == 1


def test_a_failed_replacement_leaves_the_current_content(ada, worker, samples):
    media = upload_ready(ada, worker, "Lecture.webm", samples.video_bytes(seconds=2))
    before = (media.sha256, media.storage_key, media.duration_seconds, media.thumbnail_key)
    broken = samples.video_bytes(seconds=2)[:300]  # a WebM header, then nothing playable
    assert replace(ada, media.id, "broken.webm", broken).status_code == 201
    worker()
    media = fresh(media.id)
    assert (media.sha256, media.storage_key, media.duration_seconds, media.thumbnail_key) == before
    assert (media.status, media.failure_reason) == ("ready", None)
    assert len(versions_of(media.id)) == 1
    operation = db.session.scalars(sa.select(Operation).order_by(Operation.id.desc()).limit(1)).one()
    assert operation.status == "failed" and operation.media_id == media.id
    assert operation.error == "The video could not be read: it is damaged or not a video."
    assert history(media.id, "replace_failed") == [f"Replacing with “broken.webm” failed: {operation.error}"]


def test_two_replacements_at_once_both_become_versions(ada, worker, samples):
    media = upload_ready(ada, worker, "Lecture.webm", samples.video_bytes(seconds=2))
    replace(ada, media.id, "take2.webm", samples.video_bytes(seconds=3))
    replace(ada, media.id, "take3.webm", samples.video_bytes(seconds=4))
    worker()
    versions = versions_of(media.id)
    assert [v.number for v in versions] == [1, 2, 3]
    assert len({v.sha256 for v in versions}) == 3
    assert fresh(media.id).sha256 == versions[-1].sha256


def test_deleting_for_good_removes_every_version_but_bytes_still_used(ada, worker, samples):
    first, second = samples.png_bytes(), samples.png_bytes(color=(9, 9, 9))
    media_id = upload_ready(ada, worker, "A.png", first).id
    other = upload_ready(ada, worker, "B.png", first)  # the same bytes as A's first version
    replace(ada, media_id, "a2.png", second)
    worker()
    first_key, second_key = (v.storage_key for v in versions_of(media_id))
    ada.post(f"/media/{media_id}/trash")
    assert len(versions_of(media_id)) == 2  # kept with the trashed file
    ada.post(f"/media/{media_id}/delete")
    worker()
    storage = get_storage()
    assert first_key == other.storage_key and storage.exists(first_key)  # B still uses those bytes
    assert not storage.exists(second_key)
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(MediaVersion).where(MediaVersion.media_id == media_id))


def test_another_users_file_and_versions_answer_404(ada, ben, worker, samples):
    media = upload_ready(ada, worker, "Mine.png", samples.png_bytes())
    version = versions_of(media.id)[0]
    assert replace(ben, media.id, "x.png", samples.png_bytes(color=(5, 5, 5))).status_code == 404
    assert ben.post(f"/media/{media.id}/versions/{version.id}/restore").status_code == 404
    other = upload_ready(ben, worker, "Bens.png", samples.png_bytes(color=(7, 7, 7)))
    # a version of one file restored through another file's URL
    assert ben.post(f"/media/{other.id}/versions/{version.id}/restore").status_code == 404
    assert ada.post(f"/media/{media.id}/versions/999999/restore").status_code == 404


def test_replace_through_tus_names_its_target_in_the_metadata(ada, worker, samples):
    import base64
    media = upload_ready(ada, worker, "Lecture.webm", samples.video_bytes(seconds=2))
    content = samples.video_bytes(seconds=3)

    def encode(text):
        return base64.b64encode(text.encode()).decode()

    created = ada.client.post("/uploads/", headers=ada.headers(htmx=False, **{
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(content)),
        "Upload-Metadata": f"filename {encode('take2.webm')},replace {encode(str(media.id))}"}))
    assert created.status_code == 201, created.get_data(as_text=True)
    done = ada.client.patch(created.headers["Location"], data=content, headers=ada.headers(htmx=False, **{
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}))
    assert done.status_code == 204, done.get_data(as_text=True)
    worker()
    assert [v.number for v in versions_of(media.id)] == [1, 2]
    assert 2.5 < fresh(media.id).duration_seconds < 3.5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile)) == 1


def test_tus_refuses_to_replace_another_users_file(ada, ben, worker, samples):
    import base64
    media = upload_ready(ada, worker, "Lecture.webm", samples.video_bytes(seconds=2))
    created = ben.client.post("/uploads/", headers=ben.headers(htmx=False, **{
        "Tus-Resumable": "1.0.0", "Upload-Length": "1000",
        "Upload-Metadata": f"filename {base64.b64encode(b'x.webm').decode()},replace {base64.b64encode(str(media.id).encode()).decode()}"}))
    assert created.status_code == 404


def test_the_plain_form_replaces_without_javascript(ada, worker, samples):
    import io
    media = upload_ready(ada, worker, "Photo.png", samples.png_bytes())
    answer = ada.client.post(f"/media/{media.id}/replace", data={
        "csrf_token": ada.token, "file": (io.BytesIO(samples.png_bytes(90, 70)), "new.png")},
        content_type="multipart/form-data")
    assert answer.status_code == 302 and re.search(rf"/media/{media.id}$", answer.headers["Location"])
    worker()
    assert (fresh(media.id).width, fresh(media.id).height) == (90, 70)
