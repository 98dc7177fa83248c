"""Dropping a file the library holds already: the page hashes it, asks the server, and offers "Use
existing" before a byte of the file is sent; "Keep both" uploads it; several duplicates in one drop
get "Use existing for all"."""
import sqlalchemy as sa
from playwright.sync_api import expect

import media_samples
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from page_actions import card, cards, drop_files, log_in, screenshot, upload_and_wait


def files_of(live_server, name_like="%"):
    with live_server.app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile).where(MediaFile.name.like(name_like)))
        db.session.remove()
    return count


def test_drop_the_same_file_twice_and_use_the_existing_one(page, live_server):
    email = live_server.create_instructor(name="Forgetful Instructor")
    log_in(page, email)
    content = media_samples.video_bytes(seconds=2)
    upload_and_wait(page, {"Week 3 lecture.webm": content})
    uploads = []
    page.on("request", lambda request: request.method == "POST" and "/media/upload" in request.url and uploads.append(request))

    drop_files(page, {"lecture (1).webm": content})
    row = page.locator("#operation-list > li").filter(has_text="lecture (1).webm")
    expect(row).to_contain_text("Already in your library as Week 3 lecture.webm")
    screenshot(page, "duplicate-found")
    row.get_by_role("button", name="Use existing “Week 3 lecture.webm” instead of uploading lecture (1).webm").click()
    expect(row).to_contain_text("nothing was uploaded")
    assert uploads == []  # not a byte of the file went up
    expect(cards(page)).to_have_count(1)

    drop_files(page, {"copy a.webm": content, "copy b.webm": content, "new.png": media_samples.png_bytes()})
    expect(card(page, "new.png")).to_have_attribute("data-status", "ready")  # the other file went up meanwhile
    use_all = page.get_by_role("button", name="Use existing for all (2)")
    expect(use_all).to_be_visible()
    use_all.click()
    expect(use_all).to_be_hidden()
    assert files_of(live_server, "copy%") == 0

    drop_files(page, {"keep me.webm": content})
    row = page.locator("#operation-list > li").filter(has_text="keep me.webm")
    row.get_by_role("button", name="Keep both: upload keep me.webm as a new entry").click()
    expect(card(page, "keep me.webm")).to_have_attribute("data-status", "ready")
    assert files_of(live_server, "keep me%") == 1

    page.goto("/media/duplicates")
    group = page.locator(".duplicate-group")
    expect(group).to_have_count(1)
    expect(group).to_contain_text("Week 3 lecture.webm")
    group.get_by_role("button", name="Merge the 2 files of Week 3 lecture.webm").click()
    # The merge runs in the background; when it is done the page shows what is left: nothing.
    expect(page.get_by_text("No duplicates.")).to_be_visible(timeout=30_000)
    expect(page.locator("#operation-list")).to_contain_text("Merge duplicates: 1 file into the files kept")


def test_use_existing_from_a_chapter_links_the_file_already_there(page, live_server):
    email = live_server.create_instructor(name="Chapter Builder")
    log_in(page, email)
    content = media_samples.video_bytes(seconds=2)
    upload_and_wait(page, {"Intro.webm": content})
    page.goto("/courses")
    page.get_by_label("New course title").fill("Physics")
    page.get_by_role("button", name="Create course").click()
    page.get_by_label("New chapter").fill("Week 1")
    page.get_by_role("button", name="Add chapter").click()
    expect(page.locator(".chapter")).to_have_count(1)
    uploads = []
    page.on("request", lambda request: request.method == "POST" and "/media/upload" in request.url and uploads.append(request))

    page.get_by_label("Upload new files into “Week 1”").set_input_files(
        [{"name": "intro again.webm", "mimeType": "video/webm", "buffer": content}])
    row = page.locator("#operation-list > li").filter(has_text="intro again.webm")
    row.get_by_role("button", name="Use existing “Intro.webm” instead of uploading intro again.webm").click()
    expect(row).to_contain_text("Added “Intro.webm” to the chapter")
    expect(page.locator(".chapter-item .item-title")).to_have_count(1)
    expect(page.locator(".chapter-item .item-title").first).to_have_value("Intro")  # titled by the name without extension
    assert uploads == [] and files_of(live_server, "intro again%") == 0
