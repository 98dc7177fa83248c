"""axe-core on every page, at laptop and phone width: zero violations, and nothing wider than the
screen. The counts per page are printed (`-s`) for the record."""
import pytest
from playwright.sync_api import expect

from factories import make_files
from mediamgr.cli import ensure_user
from mediamgr.extensions import db
from media_samples import png_bytes
from page_actions import PASSWORD, axe_violations, card, log_in, open_details, settled, upload_and_wait

SIZES = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def audit(page, name, found):
    settled(page)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= page.viewport_size["width"], f"{name}: the page is {wide} px wide on a {page.viewport_size['width']} px screen"
    violations = axe_violations(page)
    found[name] = violations
    print(f"axe {name}: {len(violations)} violations", *(f"  {v['id']} ({v['impact']}): {v['nodes']}" for v in violations), sep="\n")


def assert_clean(found):
    dirty = {name: [(v["id"], v["nodes"]) for v in violations] for name, violations in found.items() if violations}
    assert not dirty, dirty


@pytest.mark.console_errors(r"status of 404")  # the not-found page, on purpose
@pytest.mark.parametrize("size", list(SIZES))
def test_an_instructors_pages_have_no_axe_violations(page, live_server, size):
    page.set_viewport_size(SIZES[size])
    found = {}
    page.goto("/login")
    audit(page, f"login-{size}", found)
    page.goto("/register")
    audit(page, f"register-{size}", found)
    email = live_server.create_instructor(name="Accessible Instructor")
    with live_server.app.app_context():
        make_files(email, 3, prefix="handout", stored=True)
        make_files(email, 1, prefix="old handout", stored=True, trashed=True)
        db.session.remove()
    log_in(page, email)
    upload_and_wait(page, {"diagram.png": png_bytes(320, 240)})
    audit(page, f"library-{size}", found)
    page.get_by_role("button", name="Select", exact=True).click()  # selection mode, a file ticked, the bar's choices
    card(page, "diagram.png").locator(".card-link").click()
    if size == "phone":
        page.get_by_role("form", name="Selected files").get_by_role("button", name="Actions").click()
    audit(page, f"library-selecting-{size}", found)
    page.keyboard.press("Escape")
    page.goto("/media?view=list")
    audit(page, f"library-list-{size}", found)
    page.goto("/media")
    open_details(page, "diagram.png")
    audit(page, f"details-dialog-{size}", found)
    page.keyboard.press("Escape")
    card(page, "diagram.png").get_by_role("link").click()
    page.reload()
    audit(page, f"details-page-{size}", found)
    page.goto("/media/trash")
    page.get_by_label("Select old handout 00003.pdf").check()  # the selection bar of the trash, with its options
    audit(page, f"trash-selection-{size}", found)
    for path, name in (("/media/trash", "trash"), ("/media/duplicates", "duplicates"), ("/media/export", "export"),
                       ("/media/import", "import"), ("/analytics", "analytics"), ("/account", "account"),
                       ("/media/999999999", "not-found")):
        page.goto(path)
        audit(page, f"{name}-{size}", found)
    page.goto("/courses")
    audit(page, f"courses-{size}", found)
    page.get_by_label("New course title").fill("Accessible course")
    page.get_by_role("button", name="Create course").click()
    page.get_by_label("New chapter").fill("Week 1")
    page.get_by_role("button", name="Add chapter").click()
    expect(page.locator(".chapter")).to_have_count(1)
    page.get_by_role("button", name="Browse from Library for “Week 1”").click()
    dialog = page.get_by_role("dialog", name="Add files to “Week 1”")
    expect(dialog).to_be_visible()
    audit(page, f"picker-{size}", found)
    if size == "phone":  # the filters beside the search are behind "Filters" there
        dialog.get_by_role("button", name="Filters").click()
    dialog.get_by_label("Type").select_option(label="All")
    expect(dialog.locator("#filters-count")).to_have_text("")  # no filter in use now (the preset Video went)
    dialog.get_by_label("Choose handout 00000.pdf").check()
    dialog.get_by_role("button", name="Add 1 file").click()
    expect(dialog).to_be_hidden()
    audit(page, f"course-editor-{size}", found)
    page.get_by_label("Select “handout 00000”").click()  # the editor's selection bar
    audit(page, f"course-editor-selection-{size}", found)
    assert_clean(found)


@pytest.mark.parametrize("size", list(SIZES))
def test_an_admins_pages_have_no_axe_violations(page, live_server, size):
    page.set_viewport_size(SIZES[size])
    with live_server.app.app_context():
        ensure_user("axe-admin@example.com", PASSWORD, "Axe Admin", "admin")
        db.session.remove()
    log_in(page, "axe-admin@example.com")
    found = {}
    audit(page, f"admin-library-{size}", found)
    page.goto("/admin")
    audit(page, f"admin-{size}", found)
    page.goto("/analytics")
    audit(page, f"admin-analytics-{size}", found)
    assert_clean(found)
