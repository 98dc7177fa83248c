"""Replacing a lecture in the browser: "Replace file" in the details of a video that two courses use,
the new take's duration in the course editor without a reload of the library, and "Restore this
version" bringing the old take back."""
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

import media_samples
from mediamgr.auth.models import User
from mediamgr.courses.models import Chapter, Course
from mediamgr.courses.service import link_media
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from page_actions import card, log_in, open_details, screenshot, upload_and_wait


def courses_using(live_server, email, name):
    """Two courses of the user, each with a chapter linking the file called `name`; their ids."""
    with live_server.app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        media = db.session.scalar(sa.select(MediaFile).where(MediaFile.name == name, MediaFile.owner_id == user.id))
        ids = []
        for title in ("Algorithms", "Data structures"):
            course = Course(owner_id=user.id, title=title)
            chapter = Chapter(course=course, title="Week 1", position=0)
            db.session.add_all([course, chapter])
            db.session.flush()
            link_media(chapter, [media.id], user)
            ids.append(course.id)
        db.session.commit()
        db.session.remove()
    return ids


def test_replace_a_lecture_used_in_two_courses_then_restore_the_old_take(page, live_server):
    email = live_server.create_instructor(name="Replacing Instructor")
    log_in(page, email)
    upload_and_wait(page, {"Lecture 1.webm": media_samples.video_bytes(seconds=2)})
    algorithms, structures = courses_using(live_server, email, "Lecture 1.webm")

    dialog = open_details(page, "Lecture 1.webm")
    versions = dialog.get_by_role("region", name="Versions")
    expect(versions.locator(".version")).to_have_count(1)
    dialog.get_by_label("Replace file").set_input_files(
        [{"name": "Lecture 1 retake.webm", "mimeType": "video/webm", "buffer": media_samples.video_bytes(seconds=5)}])
    expect(page.locator("#operation-list > li").filter(has_text="replacing with Lecture 1 retake.webm")
           .locator(".op-stage")).to_have_text("Ready", timeout=30_000)
    # The card shows the new take at once: same name, new duration.
    expect(card(page, "Lecture 1.webm")).to_contain_text("0:05")
    page.keyboard.press("Escape")
    dialog = open_details(page, "Lecture 1.webm")
    versions = dialog.get_by_role("region", name="Versions")
    expect(versions.locator(".version")).to_have_count(2)
    expect(versions.locator(".version").first).to_contain_text("Version 2")
    expect(versions.locator(".version").first).to_contain_text("Current")
    screenshot(page, "versions-after-replace")

    for course_id in (algorithms, structures):
        page.goto(f"/courses/{course_id}/edit")
        expect(page.locator(".chapter-item")).to_contain_text("Lecture 1.webm")
        expect(page.locator(".chapter-item")).to_contain_text("0:05")

    page.goto("/media")
    dialog = open_details(page, "Lecture 1.webm")
    dialog.get_by_role("button", name="Restore this version (version 1)").click()
    expect(page.locator("#toasts")).to_contain_text("Version 1 restored: it is now version 3.")
    expect(dialog.get_by_role("region", name="Versions").locator(".version")).to_have_count(3)
    expect(card(page, "Lecture 1.webm")).to_contain_text("0:02")
    page.goto(f"/courses/{algorithms}/edit")
    expect(page.locator(".chapter-item")).to_contain_text("0:02")


@pytest.mark.console_errors(r"status of 415")  # the refused replacement answers 415
def test_a_replacement_of_another_kind_says_so_in_the_panel(page, live_server):
    email = live_server.create_instructor(name="Careless Replacer")
    log_in(page, email)
    upload_and_wait(page, {"Intro.webm": media_samples.video_bytes(seconds=2)})
    dialog = open_details(page, "Intro.webm")
    dialog.get_by_label("Replace file").set_input_files(
        [{"name": "slide.png", "mimeType": "image/png", "buffer": media_samples.png_bytes()}])
    expect(page.locator("#operation-list")).to_contain_text(
        "“slide.png” is an image; a video can only be replaced by another video. The file is unchanged.")
    expect(dialog.get_by_role("region", name="Versions").locator(".version")).to_have_count(1)
