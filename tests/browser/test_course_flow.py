"""Building a course in the browser: chapters, the library picker (order of ticking kept),
keyboard reordering with focus kept, moving an item to another chapter, inline rename."""
import sqlalchemy as sa
from playwright.sync_api import expect

from factories import make_files
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from page_actions import log_in, screenshot


def seeded_instructor(live_server):
    email = live_server.create_instructor(name="Course Builder")
    with live_server.app.app_context():
        ids = make_files(email, 3, prefix="Lecture")
        db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids)).values(kind="video", mime_type="video/webm"))
        db.session.commit()
        db.session.remove()
    return email



def expect_titles(titles, values):
    expect(titles).to_have_count(len(values))
    for index, value in enumerate(values):
        expect(titles.nth(index)).to_have_value(value)


def test_build_a_course_from_the_library(page, live_server):
    log_in(page, seeded_instructor(live_server))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    page.get_by_label("New course title").fill("Algorithms")
    page.get_by_role("button", name="Create course").click()
    expect(page.get_by_label("Course title")).to_have_value("Algorithms")
    for title in ("Week 1", "Week 2"):
        page.get_by_label("New chapter").fill(title)
        page.get_by_role("button", name="Add chapter").click()
        expect(page.locator(".chapter")).to_have_count(1 if title == "Week 1" else 2)

    page.get_by_role("button", name="Browse from Library for “Week 1”").click()
    dialog = page.get_by_role("dialog", name="Add files to “Week 1”")
    expect(dialog.locator(".picker-item")).to_have_count(3)
    dialog.get_by_label("Choose Lecture 00002.pdf").check()
    dialog.get_by_label("Choose Lecture 00000.pdf").check()
    expect(dialog.get_by_role("button", name="Add 2 files")).to_be_enabled()
    dialog.get_by_role("button", name="Preview Lecture 00001.pdf").click()
    expect(dialog.locator("#picker-preview")).to_contain_text("Lecture 00001.pdf")
    screenshot(page, "course-picker")
    dialog.get_by_role("button", name="Add 2 files").click()
    expect(dialog).to_be_hidden()
    week1 = page.locator(".chapter").nth(0).locator(".chapter-item .item-title")
    expect_titles(week1, ["Lecture 00002.pdf", "Lecture 00000.pdf"])

    week1.nth(0).focus()
    page.keyboard.press("Alt+ArrowDown")
    expect_titles(week1, ["Lecture 00000.pdf", "Lecture 00002.pdf"])
    expect(page.locator(".chapter").nth(0).locator(".chapter-item").nth(1).get_by_role("button", name="Move “Lecture 00002.pdf” up")).to_be_focused()

    title = week1.nth(0)
    title.fill("Welcome")
    title.press("Enter")
    expect(week1.nth(0)).to_have_value("Welcome")
    title = page.locator(".chapter").nth(0).locator(".chapter-item .item-title").nth(0)
    title.fill("Something else")
    title.press("Escape")
    expect(title).to_have_value("Welcome")

    second_item = page.locator(".chapter").nth(0).locator(".chapter-item").nth(1)
    second_item.get_by_label("Move “Lecture 00002.pdf” to chapter").select_option(label="Week 2")
    second_item.get_by_role("button", name="Move “Lecture 00002.pdf” to the chosen chapter").click()
    expect_titles(page.locator(".chapter").nth(1).locator(".chapter-item .item-title"), ["Lecture 00002.pdf"])
    expect_titles(page.locator(".chapter").nth(0).locator(".chapter-item .item-title"), ["Welcome"])

    # Drag "Welcome" (Week 1) below "Lecture 00002.pdf" in Week 2: one request, both chapters renumbered.
    handle = page.locator(".chapter").nth(0).locator(".chapter-item").nth(0).locator(".drag-handle")
    target = page.locator(".chapter").nth(1).locator(".chapter-item").nth(0)
    box = target.bounding_box()
    handle.hover()
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.5, steps=12)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.9, steps=8)
    page.mouse.up()
    expect_titles(page.locator(".chapter").nth(1).locator(".chapter-item .item-title"), ["Lecture 00002.pdf", "Welcome"])
    expect(page.locator(".chapter").nth(0).locator(".chapter-item")).to_have_count(0)
    screenshot(page, "course-editor-built")
