"""On a phone (390 px wide) no page is wider than the screen: nothing to scroll sideways, nothing cut off."""
import pytest
from playwright.sync_api import expect

from mediamgr.cli import ensure_user
from mediamgr.extensions import db

from factories import make_files
from media_samples import pdf_bytes, png_bytes
from page_actions import PASSWORD, card, choose_files, log_in, open_details, screenshot, upload_and_wait

PHONE = {"width": 390, "height": 844}


def _fits(page, name):
    screenshot(page, f"phone-{name}")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"{name}: the page is {wide} px wide on a {PHONE['width']} px screen"


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


def test_every_page_of_an_instructor_fits_a_phone(phone, live_server):
    log_in(phone, live_server.create_instructor(name="Phone Instructor With A Long Name"))
    upload_and_wait(phone, {"a-rather-long-lecture-file-name-week-01.pdf": pdf_bytes(pages=2),
                            "diagram.png": png_bytes(320, 240)})
    _fits(phone, "library")
    choose_files(phone, {"diagram copy.png": png_bytes(320, 240)})
    phone.get_by_role("button", name="Keep both: upload diagram copy.png as a new entry").click()
    expect(card(phone, "diagram copy.png")).to_have_attribute("data-status", "ready")
    phone.goto("/media/duplicates")
    expect(phone.get_by_role("heading", name="Duplicates")).to_be_visible()
    _fits(phone, "duplicates")
    phone.goto("/media")
    dialog = open_details(phone, "a-rather-long-lecture-file-name-week-01.pdf")
    box = dialog.get_by_role("heading", name="a-rather-long-lecture-file-name-week-01.pdf").bounding_box()
    assert box["width"] > PHONE["width"] / 2, "the file's name in the details is squeezed into a narrow column"
    _fits(phone, "details")
    dialog.get_by_role("button", name="Move to trash").click()
    expect(dialog).to_be_hidden()

    phone.get_by_role("link", name="Trash").click()
    expect(phone.get_by_role("heading", name="Trash")).to_be_visible()
    _fits(phone, "trash")
    phone.get_by_role("link", name="a-rather-long-lecture-file-name-week-01.pdf").click()
    expect(phone.get_by_text("This file is in the trash")).to_be_visible()
    expect(phone.get_by_role("link", name="← Trash")).to_be_visible()
    _fits(phone, "trashed-details")

    phone.get_by_role("link", name="Courses").click()
    _fits(phone, "courses")
    phone.goto("/account")
    phone.get_by_label("Token name").fill("Phone uploader")
    phone.get_by_label("Your password", exact=True).fill(PASSWORD)
    phone.get_by_role("button", name="Create token").click()
    expect(phone.get_by_label("Your new token")).to_be_visible()
    _fits(phone, "account")


def test_the_admin_pages_fit_a_phone(phone, live_server):
    with live_server.app.app_context():
        ensure_user("phone-admin@example.com", PASSWORD, "Phone Admin", "admin")
        db.session.remove()
    log_in(phone, "phone-admin@example.com")
    _fits(phone, "admin-library")
    phone.get_by_role("link", name="Admin", exact=True).click()
    expect(phone.get_by_role("heading", name="Users")).to_be_visible()
    _fits(phone, "admin-users")


def test_on_a_phone_the_cards_come_first_and_the_filters_fold_away(phone, live_server):
    """The search and a "Filters" button above the grid; the other controls only when asked for; the
    count of filters in use on the button."""
    email = live_server.create_instructor(name="Phone Browser")
    with live_server.app.app_context():
        make_files(email, 3, prefix="A lecture whose name is long enough to need two lines", stored=True)
        make_files(email, 2, prefix="recording", kind="video", stored=True)
        db.session.remove()
    log_in(phone, email)
    first = phone.locator("[data-media-id]").first
    assert first.bounding_box()["y"] + first.bounding_box()["height"] <= PHONE["height"], "the first card is below the fold"
    expect(phone.get_by_label("Search media")).to_be_visible()
    expect(phone.get_by_label("Type")).to_be_hidden()
    toggle = phone.get_by_role("button", name="Filters")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    phone.get_by_label("Type").select_option(label="Video")
    expect(phone.locator(".results-summary")).to_contain_text("2 files")
    expect(toggle).to_contain_text("(1)")
    toggle.click()
    expect(phone.get_by_label("Type")).to_be_hidden()
    _fits(phone, "library-filters")
    name = phone.locator("[data-media-id] .card-name .stem").first
    assert name.evaluate("el => el.getClientRects().length && el.scrollHeight") > 1.5 * name.evaluate(
        "el => parseFloat(getComputedStyle(el).lineHeight)"), "a long name gets two lines, not one clipped stub"
    expect(phone.locator("[data-media-id] .status-badge")).to_have_count(0)  # Ready is the normal case: no badge


def test_on_a_phone_the_details_fill_the_screen_with_the_preview_first(phone, live_server):
    email = live_server.create_instructor(name="Phone Viewer")
    log_in(phone, email)
    upload_and_wait(phone, {"Q&A session week 3 — a long lecture title.png": png_bytes(640, 480)})
    dialog = open_details(phone, "Q&A session week 3 — a long lecture title.png")
    box = dialog.bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, PHONE["width"], PHONE["height"])
    preview = dialog.locator(".preview").bounding_box()
    title = dialog.get_by_role("heading", name="Q&A session week 3 — a long lecture title.png").bounding_box()
    assert preview["y"] < 1 and preview["width"] == PHONE["width"], "the preview is not first, edge to edge"
    assert title["y"] >= preview["y"] + preview["height"] and title["width"] > PHONE["width"] / 2
    expect(dialog.get_by_role("button", name="Move to trash")).to_be_in_viewport()
    _fits(phone, "details-full-screen")
    dialog.get_by_role("button", name="Close details").click()
    expect(dialog).to_be_hidden()
    expect(card(phone, "Q&A session week 3 — a long lecture title.png").get_by_role("link")).to_be_focused()
