"""The everyday experience (issue 13): what the outside review found broken, checked in Chromium."""
from playwright.sync_api import expect

from factories import make_files
from mediamgr.extensions import db
from page_actions import log_in, settled


def console_errors(page):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_the_trash_shows_its_empty_state_after_the_last_permanent_delete(page, live_server):
    problems = console_errors(page)
    email = live_server.create_instructor(name="Trash Owner")
    with live_server.app.app_context():
        make_files(email, 1, trashed=True, prefix="last one")
        db.session.remove()
    log_in(page, email)
    page.get_by_role("link", name="Trash", exact=True).click()
    expect(page.locator(".results-summary")).to_have_text("1 file in the trash")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete permanently: last one 00000.pdf").click()
    expect(page.get_by_text("The trash is empty.")).to_be_visible()
    expect(page.locator(".results-summary")).to_have_count(0)
    assert not problems, problems


def test_the_picker_filters_combine_and_survive_load_more(page, live_server):
    problems = console_errors(page)
    email = live_server.create_instructor(name="Picker Owner")
    with live_server.app.app_context():
        make_files(email, 30, prefix="syllabus part", kind="document")
        make_files(email, 5, prefix="syllabus talk", kind="video")
        make_files(email, 5, prefix="reading", kind="document")
        db.session.remove()
    log_in(page, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    page.get_by_label("New course title").fill("Combined")
    page.get_by_role("button", name="Create course").click()
    page.get_by_label("New chapter").fill("Week 1")
    page.get_by_role("button", name="Add chapter").click()
    page.get_by_role("button", name="Browse from Library for “Week 1”").click()
    dialog = page.get_by_role("dialog", name="Add files to “Week 1”")
    items = dialog.locator(".picker-item")
    expect(items).to_have_count(5)  # Video, preset
    dialog.get_by_label("Search the library").fill("syllabus")
    page.wait_for_timeout(400)  # past the search field's 250 ms debounce: its request goes now, not later
    settled(page)
    expect(items).to_have_count(5)
    dialog.get_by_label("Type").select_option(label="Document")  # the search stays
    expect(dialog.locator(".results-summary")).to_contain_text("30 files")
    expect(dialog.locator(".results-summary")).to_contain_text("Document")
    expect(items).to_have_count(24)
    settled(page)
    dialog.get_by_role("button", name="Load more").click()
    expect(items).to_have_count(30)
    expect(dialog.locator(".picker-name").filter(has_text="reading")).to_have_count(0)
    expect(dialog.get_by_label("Search the library")).to_have_value("syllabus")
    dialog.get_by_label("Type").select_option(label="All")
    expect(dialog.locator(".results-summary")).to_contain_text("35 files")
    settled(page)
    dialog.get_by_role("button", name="Load more").click()  # "All" survives Load more (the picker presets Video)
    expect(items).to_have_count(35)
    assert not problems, problems


def test_toasts_show_above_the_dialog_and_focus_returns_to_the_card(page, live_server):
    """Renaming in the details dialog: the toast is drawn above the dialog (the top layer), says the
    name as stored; closing the dialog throws nothing and gives focus back to the card."""
    problems = console_errors(page)
    email = live_server.create_instructor(name="Dialog Owner")
    with live_server.app.app_context():
        ids = make_files(email, 3, prefix="session")
        db.session.remove()
    log_in(page, email)
    card = page.locator(f"#media-{ids[1]}")
    card.locator(".card-link").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name", exact=True).fill("Q&A session 1/2")
    dialog.get_by_role("button", name="Rename").click()
    toast = page.locator("#toasts .toast").filter(has_text="Renamed to")
    expect(toast).to_contain_text("Renamed to “Q&A session 1\u22152.pdf”.")
    expect(toast).to_contain_text("cannot be part of a name")
    box = toast.bounding_box()
    on_top = page.evaluate("([x, y]) => !!document.elementFromPoint(x, y).closest('#toasts')",
                           [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    assert on_top, "the toast is under the dialog (or the dialog makes it inert)"
    toast.get_by_role("button", name="Dismiss").click()  # it can be dismissed while the dialog is open
    expect(toast).to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(card.locator(".card-link")).to_be_focused()
    expect(card).to_contain_text("Q&A session 1\u22152")
    assert not problems, problems
