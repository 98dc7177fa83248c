"""The course editor for real courses (issue 13 §4), in Chromium at 1366 px and at 390×844: one actions
menu per row, reachable and operable from the keyboard (the menu button pattern); Undo after a removal
and a chapter deleted; several items selected (Shift+click for a range) and removed or moved in one
request, with Undo; "Add it again?" in the picker; "Add to course…" from the library's selection;
no sideways scrolling on a phone; no console error on the way."""
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from factories import make_files
from mediamgr.auth.models import User
from mediamgr.courses.models import Chapter, Course
from mediamgr.courses.service import link_media
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from page_actions import card, log_in, screenshot, script_held

from test_everyday import console_errors, settled

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


# Rows whose kind · size · length (the text before the file's name) reach past their box.
FACTS_CUT_SHORT = """() => Array.from(document.querySelectorAll('#chapters .item-file')).filter((element) => {
  const range = document.createRange();
  range.selectNodeContents(element.firstChild);
  return range.getBoundingClientRect().right > element.getBoundingClientRect().right + 0.5;
}).map((element) => element.textContent)"""


def course_with_items(live_server, name, chapters=(("Week 1", 4), ("Week 2", 1))):
    """A new instructor with a course "Algorithms" whose chapters link that many of their files
    (videos of 3.4 MB and 12:34, titled "Lecture 0000n"); returns (email, course id)."""
    email = live_server.create_instructor(name=name)
    with live_server.app.app_context():
        total = sum(count for _title, count in chapters)
        ids = make_files(email, total + 1, prefix="Lecture")
        db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids)).values(
            kind="video", mime_type="video/webm", size_bytes=3_400_000, duration_seconds=754))
        user = db.session.scalar(sa.select(User).where(User.email == email))
        course = Course(owner_id=user.id, title="Algorithms")
        db.session.add(course)
        start = 0
        for position, (title, count) in enumerate(chapters, start=1):
            chapter = Chapter(course=course, title=title, position=position)
            db.session.add(chapter)
            db.session.flush()
            link_media(chapter, ids[start:start + count], user)
            start += count
        db.session.commit()
        course_id = course.id
        db.session.remove()
    return email, course_id


def chapter(page, index):
    return page.locator("#chapters .chapter").nth(index)


def titles(page, index):
    return chapter(page, index).locator(".chapter-item .item-title")


def expect_titles(page, index, values):
    found = titles(page, index)
    expect(found).to_have_count(len(values))
    for at, value in enumerate(values):
        expect(found.nth(at)).to_have_value(value)


def fits(page, name):
    screenshot(page, name)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= page.viewport_size["width"], f"{name}: {wide} px wide on a {page.viewport_size['width']} px screen"


def names_contain_visible_text(page):
    """Every button, link and menu item of the editor has an accessible name that contains the text
    it shows (axe's label-content-name-mismatch); returns the ones that do not."""
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        '#chapters button, #chapters a, #chapters [role=menuitem], #item-selection button')).filter((element) => {
        const label = element.getAttribute('aria-label');
        const text = element.textContent.replace(/\\s+/g, ' ').trim();
        return label && text && !label.toLowerCase().includes(text.toLowerCase());
    }).map((element) => element.outerHTML.slice(0, 120))""")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_row_menus_from_the_keyboard_and_undo_after_removing(page, live_server, viewport):
    problems = console_errors(page)
    page.set_viewport_size(viewport)
    email, course_id = course_with_items(live_server, "Menu Keyboard")
    log_in(page, email)
    page.goto(f"/courses/{course_id}/edit")
    expect_titles(page, 0, ["Lecture 00000", "Lecture 00001", "Lecture 00002", "Lecture 00003"])
    expect(chapter(page, 0).locator(".item-file").first).to_contain_text("3.4 MB · 12:34")
    assert page.evaluate(FACTS_CUT_SHORT) == []  # a phone cuts the file's name short, never its size or length
    fits(page, f"editor-{page.viewport_size['width']}")
    assert names_contain_visible_text(page) == []

    # The menu button pattern: one "Actions" per row, arrows move, Escape gives focus back.
    button = page.get_by_role("button", name="Actions for “Lecture 00001”")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-haspopup", "menu")
    expect(chapter(page, 0).get_by_role("menuitem")).to_have_count(0)  # closed menus are hidden
    button.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu", name="Actions for “Lecture 00001”")
    expect(menu).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("menuitem", name="Move up")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Move down")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(menu.get_by_role("menuitem", name="Remove from chapter")).to_be_focused()  # it wraps
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    fits(page, f"editor-menu-closed-{page.viewport_size['width']}")

    page.keyboard.press("ArrowDown")  # opens it again, on the first item
    expect(menu.get_by_role("menuitem", name="Move up")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # Move down
    expect_titles(page, 0, ["Lecture 00000", "Lecture 00002", "Lecture 00001", "Lecture 00003"])
    expect(page.get_by_role("button", name="Actions for “Lecture 00001”")).to_be_focused()

    page.get_by_role("button", name="Actions for “Lecture 00002”").click()
    page.get_by_role("menu", name="Actions for “Lecture 00002”").get_by_role("menuitem", name="Remove from chapter").click()
    expect_titles(page, 0, ["Lecture 00000", "Lecture 00001", "Lecture 00003"])
    toast = page.locator(".toast").filter(has_text="Removed “Lecture 00002” from “Week 1”.")
    expect(toast).to_be_visible()
    fits(page, f"editor-toast-{page.viewport_size['width']}")
    toast.get_by_role("button", name="Undo").click()
    expect_titles(page, 0, ["Lecture 00000", "Lecture 00002", "Lecture 00001", "Lecture 00003"])
    expect(page.locator(".toast").filter(has_text="Put back 1 item.")).to_be_visible()

    # A chapter deleted from its menu comes back with its items.
    page.get_by_role("button", name="Actions for chapter “Week 2”").click()
    page.get_by_role("menuitem", name="Delete chapter").click()
    expect(page.locator("#chapters .chapter")).to_have_count(1)
    page.locator(".toast").filter(has_text="Chapter “Week 2” deleted.").get_by_role("button", name="Undo").click()
    expect(page.locator("#chapters .chapter")).to_have_count(2)
    expect_titles(page, 1, ["Lecture 00004"])
    assert not problems, problems


def test_an_item_ticked_before_the_editor_script_ran_counts(page, live_server):
    """The editor shown before its script arrived (a slow connection): a box ticked meanwhile is part
    of the selection once the script runs."""
    email, course_id = course_with_items(live_server, "Slow Connection")
    log_in(page, email)
    release = script_held(page, "course_editor.js", f"/courses/{course_id}/edit")
    page.get_by_label("Select “Lecture 00001”").check()
    release()
    bar = page.get_by_role("region", name="Selected items")
    expect(bar.locator("#item-selection-count")).to_have_text("1 selected")
    expect(bar).to_be_visible()


def test_a_file_chosen_before_the_upload_script_ran_is_uploaded(page, live_server, samples):
    """The editor shown before its scripts arrived (a slow connection): a file chosen for a chapter
    meanwhile is uploaded once they run."""
    email, course_id = course_with_items(live_server, "Early Chooser")
    log_in(page, email)
    release = script_held(page, "uploads.js", f"/courses/{course_id}/edit")
    page.get_by_label("Upload new files into “Week 2”").set_input_files(
        [{"name": "early bird.webm", "mimeType": "video/webm", "buffer": samples.video_bytes()}])
    release()
    expect(page.locator("#operation-list > li").filter(has_text="early bird.webm")).to_be_visible()
    expect(titles(page, 1)).to_have_count(2, timeout=60_000)  # linked at the end of its chapter when ready
    expect_titles(page, 1, ["Lecture 00004", "early bird"])


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_select_a_range_remove_it_undo_then_move_it(page, live_server, viewport):
    problems = console_errors(page)
    page.set_viewport_size(viewport)
    email, course_id = course_with_items(live_server, "Several Items")
    log_in(page, email)
    page.goto(f"/courses/{course_id}/edit")
    bar = page.get_by_role("region", name="Selected items")
    expect(bar).to_be_hidden()
    page.get_by_label("Select “Lecture 00000”").click()
    page.get_by_label("Select “Lecture 00002”").click(modifiers=["Shift"])  # the range: 0, 1, 2
    expect(bar).to_be_visible()
    expect(bar.locator("#item-selection-count")).to_have_text("3 selected")
    expect(page.get_by_label("Select “Lecture 00001”")).to_be_checked()
    for name in ("Remove", "Move to chapter…", "Copy to course…"):
        expect(bar.get_by_role("button", name=name, exact=True)).to_be_visible()
    fits(page, f"editor-selection-{page.viewport_size['width']}")

    bar.get_by_role("button", name="Remove", exact=True).click()
    expect_titles(page, 0, ["Lecture 00003"])
    expect(bar).to_be_hidden()
    page.locator(".toast").filter(has_text="Removed 3 items.").get_by_role("button", name="Undo").click()
    expect_titles(page, 0, ["Lecture 00000", "Lecture 00001", "Lecture 00002", "Lecture 00003"])

    settled(page)
    page.get_by_label("Select “Lecture 00001”").click()
    page.get_by_label("Select “Lecture 00003”").click()
    bar.get_by_role("button", name="Move to chapter…").click()
    dialog = page.get_by_role("dialog", name="Move 2 items to another chapter")
    dialog.get_by_label("Chapter").select_option(label="Week 2")
    fits(page, f"editor-move-dialog-{page.viewport_size['width']}")
    dialog.get_by_role("button", name="Move", exact=True).click()
    expect(dialog).to_be_hidden()
    expect_titles(page, 1, ["Lecture 00004", "Lecture 00001", "Lecture 00003"])
    expect_titles(page, 0, ["Lecture 00000", "Lecture 00002"])
    expect(bar).to_be_hidden()
    page.locator(".toast").filter(has_text="Moved 2 items to “Week 2”.").get_by_role("button", name="Undo").click()
    expect_titles(page, 0, ["Lecture 00000", "Lecture 00001", "Lecture 00002", "Lecture 00003"])
    expect_titles(page, 1, ["Lecture 00004"])
    assert not problems, problems


def test_the_picker_asks_before_adding_a_file_again(page, live_server):
    problems = console_errors(page)
    page.set_viewport_size(DESKTOP)
    email, course_id = course_with_items(live_server, "Again Asker", chapters=(("Week 1", 1),))
    log_in(page, email)
    page.goto(f"/courses/{course_id}/edit")
    page.get_by_role("button", name="Browse from Library for “Week 1”").click()
    dialog = page.get_by_role("dialog", name="Add files to “Week 1”")
    dialog.get_by_label("Choose Lecture 00000.pdf (already in this chapter)").check()
    dialog.get_by_label("Choose Lecture 00001.pdf").check()
    dialog.get_by_role("button", name="Add 2 files").click()
    question = dialog.get_by_role("alert")
    expect(question).to_contain_text("“Lecture 00000.pdf” is already in “Week 1”. Add it again?")
    question.get_by_role("button", name="Add only the other 1").click()
    expect(dialog).to_be_hidden()
    expect_titles(page, 0, ["Lecture 00000", "Lecture 00001"])
    assert not problems, problems


def test_add_to_course_from_the_library(page, live_server):
    problems = console_errors(page)
    page.set_viewport_size(DESKTOP)
    email, _course_id = course_with_items(live_server, "Library Adder", chapters=(("Week 1", 1), ("Week 2", 0)))
    log_in(page, email)
    card(page, "Lecture 00001.pdf").locator(".select-box").check()
    page.get_by_role("button", name="Add to course…").click()
    dialog = page.get_by_role("dialog", name="Add 1 file to a course")
    dialog.get_by_label("Chapter").select_option(label="Week 2")
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".toast").filter(has_text="Added 1 file to “Algorithms” › “Week 2”.")).to_be_visible()
    expect(card(page, "Lecture 00001.pdf").locator(".usage-badge")).to_have_text("Used in 1")
    assert not problems, problems


def test_a_deleted_course_comes_back_with_undo(page, live_server):
    problems = console_errors(page)
    page.set_viewport_size(PHONE)
    email, course_id = course_with_items(live_server, "Course Deleter")
    log_in(page, email)
    page.goto(f"/courses/{course_id}/edit")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete course").click()
    toast = page.locator(".toast").filter(has_text="Course “Algorithms” deleted. Its files stay in your library.")
    expect(toast).to_be_visible()
    expect(page.get_by_text("No courses yet.")).to_be_visible()
    fits(page, "courses-after-delete-390")
    toast.get_by_role("button", name="Undo").click()
    expect(page.get_by_label("Course title")).to_have_value("Algorithms")
    expect_titles(page, 0, ["Lecture 00000", "Lecture 00001", "Lecture 00002", "Lecture 00003"])
    expect(page.locator(".toast").filter(has_text="Put back 5 items in 2 chapters.")).to_be_visible()
    assert not problems, problems


def drag(page, source, target):
    """Press on `source`, move over the lower part of `target` in steps (SortableJS's fallback drag), release."""
    box = target.bounding_box()
    source.hover()
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.5, steps=12)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.9, steps=8)
    page.mouse.up()


def test_wide_screens_dock_the_library_beside_the_chapters(page, live_server):
    problems = console_errors(page)
    page.set_viewport_size(DESKTOP)
    email, course_id = course_with_items(live_server, "Docked Panel")
    log_in(page, email)
    page.goto(f"/courses/{course_id}/edit")
    panel = page.get_by_role("complementary", name="Library")
    expect(panel).to_be_visible()
    files = panel.locator(".panel-file")
    expect(files).to_have_count(6)
    panel.get_by_label("Search the library (panel)").fill("00005")
    expect(files).to_have_count(1)  # the library's own filter controls
    settled(page)
    assert panel.bounding_box()["x"] > page.locator("#chapters").bounding_box()["x"] + 400  # beside, not below
    screenshot(page, "editor-docked-library")
    drag(page, files.first, chapter(page, 1).locator(".chapter-item").first)
    expect_titles(page, 1, ["Lecture 00004", "Lecture 00005"])
    expect(files).to_have_count(1)  # the panel keeps its file
    page.set_viewport_size(PHONE)
    expect(panel).to_be_hidden()  # narrow screens keep "Browse from Library"
    expect(page.get_by_role("button", name="Browse from Library for “Week 2”")).to_be_visible()
    fits(page, "editor-no-panel-390")
    assert not problems, problems


def test_upload_new_shows_the_file_in_its_chapter_until_it_is_linked(page, live_server, samples):
    problems = console_errors(page)
    page.set_viewport_size(DESKTOP)
    email, course_id = course_with_items(live_server, "Chapter Uploader")
    log_in(page, email)
    page.goto(f"/courses/{course_id}/edit")
    page.get_by_label("Upload new files into “Week 2”").set_input_files(
        [{"name": "Bonus lab.webm", "mimeType": "video/webm", "buffer": samples.video_bytes()}])
    placeholder = chapter(page, 1).locator(".upload-placeholder")
    expect(placeholder).to_contain_text("Bonus lab.webm")  # at once, in its chapter
    expect(placeholder.get_by_role("progressbar", name="Upload progress of Bonus lab.webm")).to_be_attached()
    expect_titles(page, 1, ["Lecture 00004", "Bonus lab"])  # linked once processed
    expect(placeholder).to_have_count(0)
    assert not problems, problems


def test_overlapping_edits_end_with_the_list_the_server_holds(page, live_server):
    """Two titles saved in quick succession, their answers delivered in the other order: the first
    answer, rendered before the second title was saved, arrives last. The list must end up showing
    both titles as saved."""
    email, course_id = course_with_items(live_server, "Quick Typist", chapters=(("Week 1", 2),))
    log_in(page, email)
    page.goto(f"/courses/{course_id}/edit")
    held = []

    def hold_answer(route, request):
        held.append((route, route.fetch()))  # rendered now, delivered when the test says

    def wait_for(count):
        for _ in range(100):  # route handlers run while the test waits on the page
            if len(held) >= count:
                return
            page.wait_for_timeout(50)
        raise AssertionError(f"{count} titles were not sent")

    page.route("**/items/*/title", hold_answer)
    first, second = titles(page, 0).nth(0), titles(page, 0).nth(1)
    first.fill("Opening")
    first.press("Enter")
    wait_for(1)
    second.fill("Closing")
    second.press("Enter")
    wait_for(2)
    (first_route, first_answer), (second_route, second_answer) = held
    second_route.fulfill(response=second_answer)
    expect_titles(page, 0, ["Opening", "Closing"])
    first_route.fulfill(response=first_answer)  # it shows "Lecture 00001" as the second title
    page.wait_for_timeout(500)
    expect_titles(page, 0, ["Opening", "Closing"])
