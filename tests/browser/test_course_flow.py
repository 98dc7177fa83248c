"""Building a course in the browser: chapters, the library picker (order of ticking kept),
keyboard reordering with focus kept, moving an item to another chapter (its actions menu), inline rename."""
import sqlalchemy as sa
from playwright.sync_api import expect

from factories import make_files
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from page_actions import card, cards, log_in, open_details, screenshot, settled


def seeded_instructor(live_server):
    email = live_server.create_instructor(name="Course Builder")
    with live_server.app.app_context():
        ids = make_files(email, 3, prefix="Lecture", stored=True)  # the picker previews one
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
    expect_titles(week1, ["Lecture 00002", "Lecture 00000"])  # titled by the names without extension

    week1.nth(0).focus()
    page.keyboard.press("Alt+ArrowDown")
    expect_titles(week1, ["Lecture 00000", "Lecture 00002"])
    expect(week1.nth(1)).to_be_focused()  # the moved item's title keeps focus: press again to move on

    title = week1.nth(0)
    title.fill("Welcome")
    title.press("Enter")
    expect(week1.nth(0)).to_have_value("Welcome")
    title = page.locator(".chapter").nth(0).locator(".chapter-item .item-title").nth(0)
    title.fill("Something else")
    title.press("Escape")
    expect(title).to_have_value("Welcome")

    page.get_by_role("button", name="Actions for “Lecture 00002”").click()
    page.get_by_role("menuitem", name="Move to chapter…").click()
    move = page.get_by_role("dialog", name="Move 1 item to another chapter")
    expect(move.get_by_label("Chapter")).to_be_focused()
    move.get_by_label("Chapter").select_option(label="Week 2")
    move.get_by_role("button", name="Move", exact=True).click()
    expect(move).to_be_hidden()
    expect_titles(page.locator(".chapter").nth(1).locator(".chapter-item .item-title"), ["Lecture 00002"])
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
    expect_titles(page.locator(".chapter").nth(1).locator(".chapter-item .item-title"), ["Lecture 00002", "Welcome"])
    expect(page.locator(".chapter").nth(0).locator(".chapter-item")).to_have_count(0)
    screenshot(page, "course-editor-built")


def test_pick_three_upload_a_fourth_then_the_library_protects_them(page, live_server, samples):
    """The issue's "done when": three videos picked into chapter 1, a fourth uploaded straight into
    chapter 2, a keyboard reorder; the library shows each as "Used in 1" and will not trash one
    without saying where it is used (until asked to remove it from the course; Undo puts it back)."""
    log_in(page, seeded_instructor(live_server))
    page.goto("/courses")
    page.get_by_label("New course title").fill("Algorithms")
    page.get_by_role("button", name="Create course").click()
    for count, title in enumerate(("Week 1", "Week 2"), start=1):
        page.get_by_label("New chapter").fill(title)
        page.get_by_role("button", name="Add chapter").click()
        expect(page.locator(".chapter")).to_have_count(count)

    page.get_by_role("button", name="Browse from Library for “Week 1”").click()
    dialog = page.get_by_role("dialog", name="Add files to “Week 1”")
    for name in ("Lecture 00000.pdf", "Lecture 00001.pdf", "Lecture 00002.pdf"):
        dialog.get_by_label(f"Choose {name}").check()
    dialog.get_by_role("button", name="Add 3 files").click()
    expect(dialog).to_be_hidden()

    page.get_by_label("Upload new files into “Week 2”").set_input_files(
        [{"name": "Bonus lab.webm", "mimeType": "video/webm", "buffer": samples.video_bytes()}])
    week2 = page.locator(".chapter").nth(1).locator(".chapter-item .item-title")
    expect_titles(week2, ["Bonus lab"])  # linked once processed, without a reload

    week1 = page.locator(".chapter").nth(0).locator(".chapter-item .item-title")
    week1.nth(2).focus()
    page.keyboard.press("Alt+ArrowUp")
    expect_titles(week1, ["Lecture 00000", "Lecture 00002", "Lecture 00001"])
    screenshot(page, "course-done-when")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    for name in ("Lecture 00000.pdf", "Lecture 00001.pdf", "Lecture 00002.pdf", "Bonus lab.webm"):
        expect(card(page, name).locator(".usage-badge")).to_have_text("Used in 1")
    page.get_by_label("Usage").select_option(label="Used in a course")
    expect(cards(page)).to_have_count(4)

    details = open_details(page, "Bonus lab.webm")
    expect(details.locator(".where-used")).to_contain_text("Algorithms › Week 2")
    details.get_by_role("button", name="Move to trash").click()
    refusal = page.get_by_role("dialog", name="“Bonus lab.webm” is used in 1 place")
    expect(refusal).to_contain_text("Algorithms › Week 2")
    screenshot(page, "trash-refused-in-use")
    refusal.get_by_role("button", name="Cancel").click()
    expect(card(page, "Bonus lab.webm")).to_be_visible()

    open_details(page, "Bonus lab.webm").get_by_role("button", name="Move to trash").click()
    page.get_by_role("button", name="Remove from courses and move to trash").click()
    toast = page.locator(".toast").filter(has_text="removed from 1 place in courses and moved to trash")
    expect(toast).to_be_visible()
    expect(card(page, "Bonus lab.webm")).to_have_count(0)
    toast.get_by_role("button", name="Undo").click()
    expect(card(page, "Bonus lab.webm").locator(".usage-badge")).to_have_text("Used in 1")


def test_a_refresh_that_answers_while_a_title_is_typed_keeps_the_typing(page, live_server):
    """The chapter list refreshes itself when files change. A refresh sent a moment before the user
    starts typing an item's title can answer while they type: it waits until the title is saved (or
    put back), so the typing is never replaced by the old title, which Enter would then save (seen in a
    full run: "Welcome" typed after a move, the list kept "Lecture 00000")."""
    log_in(page, seeded_instructor(live_server))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    page.get_by_label("New course title").fill("Algorithms")
    page.get_by_role("button", name="Create course").click()
    page.get_by_label("New chapter").fill("Week 1")
    page.get_by_role("button", name="Add chapter").click()
    page.get_by_role("button", name="Browse from Library for “Week 1”").click()
    dialog = page.get_by_role("dialog", name="Add files to “Week 1”")
    dialog.get_by_label("Choose Lecture 00000.pdf").check()
    dialog.get_by_role("button", name="Add 1 file").click()
    expect(dialog).to_be_hidden()
    title = page.locator(".chapter-item .item-title").first
    expect(title).to_have_value("Lecture 00000")
    settled(page)

    held = []
    page.route("**/courses/*/chapters", lambda route, request:
               held.append(route) if request.method == "GET" else route.continue_())
    page.evaluate("htmx.trigger(document.getElementById('chapters'), 'chapters-stale')")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    title.fill("Welcome")
    with page.expect_response(lambda response: response.request.method == "GET" and "/chapters" in response.url):
        held[0].continue_()
    page.wait_for_timeout(200)  # the answer's swap and settle
    expect(title).to_have_value("Welcome")
    page.unroute("**/courses/*/chapters")
    with page.expect_response(lambda response: response.request.method == "GET" and "/chapters" in response.url):
        title.press("Escape")  # put back: the list held back is asked for now
    expect(title).to_have_value("Lecture 00000")
    title.fill("Welcome")
    title.press("Enter")
    settled(page)
    page.reload()
    expect(page.locator(".chapter-item .item-title").first).to_have_value("Welcome")
