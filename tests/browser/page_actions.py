"""What a person does on mediamgr's pages, and where they look, for the browser tests."""
import base64
from pathlib import Path

from playwright.sync_api import expect

from helpers import PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
# The two instructors the live server starts with (other tests make their own, with empty libraries).
INSTRUCTOR = "instructor@example.com"
SECOND_INSTRUCTOR = "instructor2@example.com"


def log_in(page, email, password=PASSWORD):
    """Through the login form; ends on the library page."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Media library")).to_be_visible()
    page.wait_for_load_state()  # the heading shows before the page's scripts run: dropped files would go nowhere


def choose_files(page, files):
    """Pick files with the "Upload files" button; `files` maps names to bytes."""
    page.get_by_label("Upload files").set_input_files(
        [{"name": name, "mimeType": "application/octet-stream", "buffer": content} for name, content in files.items()])


def drop_files(page, files):
    """Drag files from the desktop and drop them on the page (the page listens on document)."""
    page.evaluate("""(files) => {
        const transfer = new DataTransfer();
        for (const [name, encoded] of files) {
            const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], name));
        }
        for (const type of ["dragenter", "dragover", "drop"]) {
            document.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
        }
    }""", [[name, base64.b64encode(content).decode()] for name, content in files.items()])


def selection_button(page, name):
    """A button of the library's selection bar; on a phone its choices are behind "Actions"."""
    bar = page.get_by_role("form", name="Selected files")
    more = bar.get_by_role("button", name="Actions")
    if more.is_visible() and more.get_attribute("aria-expanded") == "false":
        more.click()
    return bar.get_by_role("button", name=name, exact=True)


def upload_row(page, name):
    """A file's row in the upload panel."""
    return page.locator("#operation-list > li").filter(has=page.get_by_text(name, exact=True))


def card(page, name):
    """A file's card in the library grid."""
    return page.locator("[data-media-id]").filter(has=page.locator(".card-name").get_by_text(name, exact=True))


def cards(page):
    return page.locator("[data-media-id]")


def card_names(page):
    return page.locator("[data-media-id] .card-name")


def upload_and_wait(page, files):
    """Upload files with the button and wait until each one's card says Ready."""
    choose_files(page, files)
    for name in files:
        expect(card(page, name)).to_have_attribute("data-status", "ready")


def open_details(page, name):
    settled(page)  # a card swapped in a moment ago is wired 20 ms later: a click before that is a plain link
    card(page, name).get_by_role("link").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    return dialog


def screenshot(page, name):
    """A full-page screenshot under test-artifacts/browser/ (gitignored), to look at after the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def settled(page):
    """htmx wires swapped-in content when it settles (20 ms later): a click before that does nothing."""
    expect(page.locator(".htmx-added, .htmx-settling, .htmx-request")).to_have_count(0)


# axe-core from the npm registry (`make vendor`), run in the page: WCAG 2.2 A and AA and best practices.
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1.min.js"
AXE_RUN = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}))"""


def axe_violations(page):
    """What axe-core finds wrong on the page as it is now: [{id, impact, help, nodes}]."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return page.evaluate(AXE_RUN)


def script_held(page, name, url):
    """Open `url` with the page's static/js/`name` held back (a slow connection: the page shows before
    that script has run); returns the function that delivers it."""
    held = []
    page.route(f"**/static/js/{name}", lambda route, request: held.append((route, route.fetch())))
    page.goto(url, wait_until="commit")
    for _ in range(100):  # route handlers run while the test waits on the page
        if held:
            break
        page.wait_for_timeout(50)
    route, answer = held[0]
    return lambda: route.fulfill(response=answer)

