"""Sharing and describing files in Chromium, on a laptop (1366 px) and a phone (390×844): download a
selection as a zip (at once when small, from the Activity panel when large), copy a file's link (with
the fallback where the clipboard is refused), and write an image's alt text from its suggestion."""
import re
import zipfile

import pytest
import requests
from playwright.sync_api import expect

from factories import stored_files
from mediamgr.extensions import db
from media_samples import png_bytes
from page_actions import card, log_in, open_details, screenshot, selection_button, settled, upload_and_wait

SIZES = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def sized(request, page):
    """The page at each size (the page fixture fails the test on a console error)."""
    page.set_viewport_size(SIZES[request.param])
    page.size_name = request.param
    return page


def fits(page, name):
    screenshot(page, f"sharing-{name}-{page.size_name}")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= page.viewport_size["width"], f"{name}: {wide} px wide on a {page.viewport_size['width']} px screen"


def seeded(live_server, files, name="Sharing Owner"):
    email = live_server.create_instructor(name=name)
    with live_server.app.app_context():
        stored_files(email, files)
        db.session.remove()
    return email


def zip_names(download):
    with zipfile.ZipFile(download.path()) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_a_small_selection_downloads_as_a_zip_at_once(sized, live_server):
    page = sized
    log_in(page, seeded(live_server, {"notes.pdf": b"first", "Notes.pdf": b"second", "slides.pdf": b"slides"}))
    for name in ("notes.pdf", "Notes.pdf"):
        card(page, name).locator("input.select-box").check()
    bar = page.get_by_role("form", name="Selected files")
    expect(bar.locator("#bulk-count")).to_have_text("2 selected")
    download_button = selection_button(page, "Download")
    expect(download_button).to_be_visible()
    fits(page, "selection")
    with page.expect_download() as started:
        download_button.click()
    download = started.value
    assert re.fullmatch(r"media-2-files-\d{8}-\d{4}\.zip", download.suggested_filename)
    assert zip_names(download) in ({"notes.pdf": b"first", "Notes (2).pdf": b"second"},
                                   {"Notes.pdf": b"second", "notes (2).pdf": b"first"})
    expect(page.locator("#toasts .toast").filter(has_text="Downloading 2 files")).to_be_visible()
    expect(page.get_by_role("heading", name="Media library")).to_be_visible()  # still on the library
    fits(page, "downloaded")


def test_a_large_selection_is_prepared_with_progress_and_offered_in_the_activity_panel(sized, live_server):
    page = sized
    log_in(page, seeded(live_server, {f"scan {number:03d}.pdf": b"scan %d" % number for number in range(205)}))
    page.locator("input.select-box").first.check()
    bar = page.get_by_role("form", name="Selected files")
    selection_button(page, "Select all 205 files matching").click()
    expect(bar.locator("#bulk-count")).to_have_text("All 205 files matching this filter are selected")
    settled(page)
    selection_button(page, "Download").click()
    row = page.locator("#operation-list > li[data-kind='archive']")
    expect(row).to_contain_text("Zip of 205 files")
    expect(row).to_contain_text("Ready to download until", timeout=60_000)
    expect(row.get_by_role("progressbar")).to_have_attribute("value", "100")
    fits(page, "prepared")
    with page.expect_download() as started:
        row.get_by_role("link", name="Download: Zip of 205 files").click()
    names = zip_names(started.value)
    assert len(names) == 205 and names["scan 007.pdf"] == b"scan 7"


def test_copy_link_copies_a_signed_link_and_says_when_it_expires(sized, live_server):
    page = sized
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(page, seeded(live_server, {"syllabus.pdf": b"%PDF-1.4 syllabus"}))
    dialog = open_details(page, "syllabus.pdf")
    expect(dialog.get_by_text(re.compile(r"Link expires in 7 days, on \d{1,2} \w{3} \d{4}\."))).to_be_visible()
    settled(page)
    dialog.get_by_role("button", name="Copy link").click()
    expect(page.locator(".toast").filter(has_text="Link copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(live_server.url + "/files/")
    assert requests.get(copied, timeout=10).content == b"%PDF-1.4 syllabus"  # no session: it works for anyone
    fits(page, "copied")


def test_where_the_clipboard_is_refused_the_link_is_shown_selected(sized, live_server):
    page = sized
    page.add_init_script("navigator.clipboard.writeText = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));")
    log_in(page, seeded(live_server, {"reading.pdf": b"reading"}))
    dialog = open_details(page, "reading.pdf")
    settled(page)
    dialog.get_by_role("button", name="Copy link").click()
    field = dialog.get_by_label(re.compile("the link is selected here"))
    expect(field).to_be_visible()
    expect(field).to_be_focused()
    expect(field).to_have_value(re.compile(r"/files/"))
    selected = field.evaluate("(input) => [input.selectionStart, input.selectionEnd, input.value.length]")
    assert selected[0] == 0 and selected[1] == selected[2] > 0
    expect(page.locator(".toast").filter(has_text="Link copied")).to_have_count(0)
    fits(page, "copy-fallback")


@pytest.mark.console_errors(r"status of 422")  # a refused edit answers 422, with the form and its message
def test_alt_text_from_its_suggestion_is_used_on_the_card(sized, live_server):
    page = sized
    log_in(page, live_server.create_instructor(name="Alt Text Owner"))
    upload_and_wait(page, {"lecture-diagram_v2.png": png_bytes(320, 240)})
    dialog = open_details(page, "lecture-diagram_v2.png")
    field = dialog.get_by_label("Alt text")
    expect(field).to_have_attribute("placeholder", "Lecture diagram v2")
    settled(page)
    suggestion = dialog.get_by_role("button", name="Use suggestion: “Lecture diagram v2”")
    suggestion.click()
    expect(field).to_have_value("Lecture diagram v2")
    expect(suggestion).to_be_hidden()  # only offered while the field is empty
    field.fill("x" * 260)
    dialog.get_by_role("button", name="Save details").click()
    expect(dialog.locator(".field-error")).to_have_text("Alt text can be at most 250 characters; this is 260. "
                                                        "Say what the image shows in a sentence or two, and put a longer "
                                                        "account in the description.")
    field = dialog.get_by_label("Alt text")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill("Lecture diagram v2: the request goes through the queue to a worker")
    settled(page)
    dialog.get_by_role("button", name="Save details").click()
    expect(page.locator(".toast").filter(has_text="Details saved.")).to_be_visible()
    expect(dialog.get_by_role("img", name="Lecture diagram v2: the request goes through the queue to a worker")).to_be_visible()
    expect(dialog.get_by_role("button", name=re.compile("^Use suggestion"))).to_be_hidden()
    fits(page, "alt-text")
    page.keyboard.press("Escape")
    expect(card(page, "lecture-diagram_v2.png").locator("img")).to_have_attribute(
        "alt", "Lecture diagram v2: the request goes through the queue to a worker")
