"""Issue 13's "done when", walked through in Chromium: on a phone, an instructor finds a lecture by a
word of its description, opens it and renames it "Q&A 1/2"; on a laptop they drag sixty files in,
watch one summary line, cancel one, pick three files for a chapter with search and type combined,
remove two items by mistake and undo it. The page fixture fails the test on any console error; at each
step what was done is visible, never behind a dialog."""
import re

from playwright.sync_api import expect

from factories import make_files
from mediamgr.extensions import db
from media_samples import png_bytes
from page_actions import cards, drop_files, log_in, screenshot, settled, upload_row

from test_finding_flow import describe
from test_uploads_at_scale import hold, summary

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}


def on_top(page, locator):
    """The element is what a tap at its centre reaches: nothing (a dialog, a panel) covers it."""
    return locator.evaluate("""(element) => {
        const box = element.getBoundingClientRect();
        const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
        return element.contains(hit);
    }""")


def test_on_a_phone_a_word_of_the_description_finds_the_lecture_and_it_is_renamed_exactly(page, live_server):
    page.set_viewport_size(PHONE)
    email = live_server.create_instructor(name="Phone Instructor")
    with live_server.app.app_context():
        lecture, other = make_files(email, 2, prefix="recording")
        describe(lecture, "We derive Dijkstra's shortest paths on the whiteboard.", "Lectures")
        db.session.remove()
    log_in(page, email)
    page.get_by_label("Search media").fill("whiteboard")
    expect(cards(page)).to_have_count(1)
    found = cards(page).first
    expect(found.locator(".match-reason")).to_contain_text("Matched in description:")
    settled(page)
    found.locator(".card-link").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name", exact=True).fill("Q&A 1/2")
    dialog.get_by_role("button", name="Rename").click()
    toast = page.locator(".toast").filter(has_text="Renamed to")
    expect(toast).to_contain_text("Renamed to “Q&A 1\u22152.pdf”.")  # what was stored, said as it is
    expect(toast).to_contain_text("“/” cannot be part of a name")
    assert on_top(page, toast), "the toast is hidden behind the dialog"
    expect(dialog.get_by_role("heading", level=2).first).to_have_text("Q&A 1\u22152.pdf")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "done-when-phone-renamed")
    dialog.get_by_role("button", name="Close details").click()
    expect(dialog).to_be_hidden()
    expect(found.locator(".card-name")).to_have_text("Q&A 1\u22152.pdf")
    expect(found.locator(".card-link")).to_be_focused()  # back where the instructor was


def test_on_a_laptop_sixty_files_one_cancelled_three_picked_two_removed_and_undone(page, live_server):
    page.set_viewport_size(LAPTOP)
    email = live_server.create_instructor(name="Laptop Instructor")
    with live_server.app.app_context():
        make_files(email, 30, prefix="syllabus part", kind="document")
        make_files(email, 5, prefix="syllabus talk", kind="video")
        db.session.remove()
    log_in(page, email)

    # Sixty files dragged in: one summary line; one of them cancelled while it waits its turn.
    held, release = hold(page, "**/media/upload")
    drop_files(page, {f"slide {number:02d}.png": png_bytes(40 + number, 30) for number in range(60)})
    expect(summary(page)).to_contain_text("Uploading 1 of 60")
    expect(summary(page)).to_contain_text(re.compile(r"\d+(\.\d)? kB left"))
    page.get_by_role("button", name="Cancel upload of slide 59.png").click()
    expect(upload_row(page, "slide 59.png")).to_contain_text("Cancelled")
    expect(summary(page)).to_contain_text("of 59")
    screenshot(page, "done-when-laptop-sixty")
    release()
    expect(summary(page)).to_have_text("59 of 60 uploaded · 1 cancelled", timeout=60_000)
    expect(page.locator(".results-summary")).to_contain_text("94 files", timeout=60_000)
    # The live server's one worker processes them all before the next test's uploads queue behind them.
    expect(page.locator('#operation-list [data-status="queued"], #operation-list [data-status="running"]')).to_have_count(
        0, timeout=120_000)

    # Three files for a chapter, found with search and type combined.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    page.get_by_label("New course title").fill("Algorithms")
    page.get_by_role("button", name="Create course").click()
    page.get_by_label("New chapter").fill("Week 1")
    page.get_by_role("button", name="Add chapter").click()
    page.get_by_role("button", name="Browse from Library for “Week 1”").click()
    picker = page.get_by_role("dialog", name="Add files to “Week 1”")
    picker.get_by_label("Search the library").fill("syllabus")
    page.wait_for_timeout(400)  # past the search field's debounce
    settled(page)
    picker.get_by_label("Type").select_option(label="Document")
    expect(picker.locator(".results-summary")).to_contain_text("30 files")
    expect(picker.get_by_label("Search the library")).to_have_value("syllabus")
    for number in (29, 28, 27):  # newest first
        picker.get_by_label(f"Choose syllabus part {number:05d}.pdf").check()
    picker.get_by_role("button", name="Add 3 files").click()
    expect(picker).to_be_hidden()
    week1 = page.locator("#chapters .chapter").first.locator(".chapter-item .item-title")
    expect(week1).to_have_count(3)

    # Two removed by mistake, and Undo.
    page.get_by_label("Select “syllabus part 00029”").click()
    page.get_by_label("Select “syllabus part 00028”").click()
    page.get_by_role("region", name="Selected items").get_by_role("button", name="Remove", exact=True).click()
    expect(week1).to_have_count(1)
    undo = page.locator(".toast").filter(has_text="Removed 2 items.").get_by_role("button", name="Undo")
    assert on_top(page, undo), "the Undo is hidden"
    undo.click()
    expect(week1).to_have_count(3)
    for at, title in enumerate(("syllabus part 00029", "syllabus part 00028", "syllabus part 00027")):
        expect(week1.nth(at)).to_have_value(title)
    screenshot(page, "done-when-laptop-undone")
