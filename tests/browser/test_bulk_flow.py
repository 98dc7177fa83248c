"""Bulk work in the browser: ticking, shift-click ranges, Escape, "Select all matching", a bulk tag
with its progress in the activity panel, and a bulk trash that refreshes the grid."""
import re

from playwright.sync_api import expect

from factories import make_files
from mediamgr.extensions import db
from page_actions import cards, log_in, screenshot

MATCHING = 120


def seeded_instructor(live_server):
    email = live_server.create_instructor(name="Bulk Owner")
    with live_server.app.app_context():
        make_files(email, MATCHING, tags=["midterm"], prefix="exam scan")
        make_files(email, 10, prefix="reading")
        db.session.remove()
    return email


def bulk_bar(page):
    return page.get_by_role("form", name="Selected files")


def test_select_all_matching_then_add_a_tag_and_watch_it_finish(page, live_server):
    log_in(page, seeded_instructor(live_server))
    page.get_by_role("combobox", name="Tag", exact=True).fill("midterm")
    page.get_by_role("combobox", name="Tag", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(r"tag=midterm"))
    expect(page.locator(".results-summary")).to_contain_text(f"{MATCHING} files")
    bar = bulk_bar(page)
    expect(bar).to_be_hidden()

    boxes = page.locator("input.select-box")
    boxes.nth(0).check()
    expect(bar).to_be_visible()
    expect(bar.locator("#bulk-count")).to_have_text("1 selected")
    boxes.nth(4).click(modifiers=["Shift"])
    expect(bar.locator("#bulk-count")).to_have_text("5 selected")
    expect(page.locator(".media-card.is-selected")).to_have_count(5)
    page.keyboard.press("Escape")
    expect(bar).to_be_hidden()
    expect(page.locator(".media-card.is-selected")).to_have_count(0)

    boxes.nth(2).check()
    bar.get_by_role("button", name="Select all on this page").click()
    expect(bar.locator("#bulk-count")).to_have_text(f"{cards(page).count()} selected")
    expect(bar.get_by_role("button", name=f"Select all {MATCHING} files matching")).to_be_visible()
    bar.get_by_role("button", name=f"Select all {MATCHING} files matching").click()
    expect(bar.locator("#bulk-count")).to_have_text(f"All {MATCHING} files matching this filter are selected")
    screenshot(page, "bulk-selection-bar")

    bar.get_by_role("button", name="Add tags…").click()
    dialog = page.get_by_role("dialog", name=f"Add tags to {MATCHING} files")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Tags").fill("graded, <script>x</script>")
    dialog.get_by_role("button", name="Add tags").click()
    expect(dialog).to_be_hidden()
    expect(bar).to_be_hidden()
    row = page.locator("#operation-list > li[data-kind='bulk']")
    expect(row).to_contain_text(f"to {MATCHING} files")
    expect(row).to_contain_text(f"Done: {MATCHING} of {MATCHING} files", timeout=60_000)
    screenshot(page, "bulk-operation-done")

    page.get_by_role("combobox", name="Tag", exact=True).fill("graded")
    page.get_by_role("combobox", name="Tag", exact=True).press("Enter")
    expect(page.locator(".results-summary")).to_contain_text(f"{MATCHING} files")
    expect(cards(page).first.locator(".card-tags")).to_contain_text("<script>x</script>")


def test_bulk_trash_of_ticked_files_refreshes_the_grid(page, live_server):
    log_in(page, seeded_instructor(live_server))
    expect(page.locator(".results-summary")).to_contain_text(f"{MATCHING + 10} files")
    first_two = [cards(page).nth(index).get_attribute("data-media-id") for index in range(2)]
    for media_id in first_two:
        page.locator(f"[data-media-id='{media_id}'] input.select-box").check()
    bulk_bar(page).get_by_role("button", name="Move to trash").click()
    expect(page.locator(".results-summary")).to_contain_text(f"{MATCHING + 8} files", timeout=30_000)
    for media_id in first_two:
        expect(page.locator(f"[data-media-id='{media_id}']")).to_have_count(0)

    page.get_by_role("link", name="Trash").click()
    expect(page.locator(".trash-row")).to_have_count(2)
    page.get_by_role("checkbox", name=re.compile("^Select ")).first.check()
    bulk_bar(page).get_by_role("button", name="Delete permanently…").click()
    dialog = page.get_by_role("dialog", name="Delete 1 file permanently?")
    expect(dialog).to_contain_text("cannot be undone")
    dialog.get_by_role("button", name="Delete 1 file permanently").click()
    expect(page.locator(".trash-row")).to_have_count(1, timeout=30_000)


def test_a_bulk_trash_of_many_asks_first_and_undo_brings_them_back(page, live_server):
    log_in(page, seeded_instructor(live_server))
    expect(page.locator(".results-summary")).to_contain_text(f"{MATCHING + 10} files")
    chosen = [cards(page).nth(index).get_attribute("data-media-id") for index in range(7)]
    page.locator(f"[data-media-id='{chosen[0]}'] input.select-box").check()
    page.locator(f"[data-media-id='{chosen[-1]}'] input.select-box").click(modifiers=["Shift"])
    expect(bulk_bar(page).locator("#bulk-count")).to_have_text("7 selected")
    bulk_bar(page).get_by_role("button", name="Move to trash").click()
    dialog = page.get_by_role("dialog", name="Move 7 files to the trash?")
    expect(dialog).to_contain_text("kB in all")
    screenshot(page, "bulk-trash-confirm")
    dialog.get_by_role("button", name="Move 7 files to the trash").click()
    expect(page.locator(".results-summary")).to_contain_text(f"{MATCHING + 3} files", timeout=30_000)
    row = page.locator("#operation-list > li[data-kind='bulk']").first
    expect(row).to_contain_text("Done: 7 of 7 files")
    row.get_by_role("button", name=re.compile("^Undo")).click()
    expect(page.locator("#operation-list > li[data-kind='bulk']").first).to_contain_text("Restore 7 files from the trash")
    expect(page.locator(".results-summary")).to_contain_text(f"{MATCHING + 10} files", timeout=30_000)
    for media_id in chosen:
        expect(page.locator(f"[data-media-id='{media_id}']")).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile("^Undo"))).to_have_count(0)


def test_an_answer_that_closes_the_dialog_still_places_its_activity_row(page, live_server):
    """The row of an operation started from a dialog comes in the dialog's answer, which also closes the
    dialog. With the progress socket silent (it usually brings the row first), the row must still reach
    the Activity panel without an error: the dialog closes after the answer's rows are placed."""
    page.context.route_web_socket(re.compile(r"/ws/progress"), lambda socket: None)  # open, but never a word
    log_in(page, seeded_instructor(live_server))
    cards(page).first.locator("input.select-box").check()
    bulk_bar(page).get_by_role("button", name="Add tags…").click()
    dialog = page.get_by_role("dialog", name="Add tags to 1 file")
    dialog.get_by_label("Tags").fill("graded")
    dialog.get_by_role("button", name="Add tags").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#operation-list > li[data-kind='bulk']")).to_have_count(1)
