"""Many uploads at once (issue 13): one summary line with Pause all / Cancel all, Cancel on each
upload (plain: the request is aborted; resumable: the upload is terminated), and a panel that
never covers the grid."""
import sqlalchemy as sa
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from mediamgr.extensions import db
from mediamgr.upload.models import ResumableUpload

from media_samples import jpeg_bytes, png_bytes
from page_actions import card, cards, choose_files, log_in, screenshot, upload_row

BIG = 4 * 1000 * 1000  # resumable on the live server (over its 3 MB threshold), in 1 MiB chunks


def big_file():
    return jpeg_bytes(1200, 900) + b"\0" * BIG


def hold(page, pattern, methods=("POST",)):
    """Requests to `pattern` wait until released; returns (held routes, release)."""
    held = []

    def handle(route, request):
        if request.method in methods:
            held.append(route)
        else:
            route.continue_()

    page.route(pattern, handle)

    def release():
        while held:  # before unroute, which would continue them itself
            route = held.pop()
            try:
                route.continue_()
            except PlaywrightError:  # an aborted request's route is handled already
                pass
        page.unroute(pattern)
    return held, release


def summary(page):
    return page.locator("#upload-summary-text")


def test_sixty_files_one_summary_line_and_one_cancelled(page, live_server):
    log_in(page, live_server.create_instructor(name="Sixty Files"))
    held, release = hold(page, "**/media/upload")
    files = {f"slide {number:02d}.png": png_bytes(40 + number, 30) for number in range(60)}
    choose_files(page, files)
    expect(summary(page)).to_contain_text("Uploading 1 of 60")
    expect(summary(page)).to_contain_text("left")
    page.get_by_role("button", name="Cancel upload of slide 59.png").click()  # still waiting its turn
    expect(upload_row(page, "slide 59.png")).to_contain_text("Cancelled")
    expect(summary(page)).to_contain_text("of 59")
    screenshot(page, "uploads-summary")
    release()
    expect(summary(page)).to_have_text("59 of 60 uploaded · 1 cancelled", timeout=60_000)
    expect(page.get_by_role("button", name="Cancel all")).to_be_hidden()
    expect(page.locator(".results-summary")).to_contain_text("59 files", timeout=60_000)
    expect(card(page, "slide 59.png")).to_have_count(0)
    # The live server's one worker processes them all before the next test's uploads queue behind them.
    expect(page.locator('#operation-list [data-status="queued"], #operation-list [data-status="running"]')).to_have_count(
        0, timeout=120_000)


def test_cancel_a_plain_upload_in_flight_aborts_it(page, live_server):
    log_in(page, live_server.create_instructor(name="Plain Cancel"))
    held, _release = hold(page, "**/media/upload")
    choose_files(page, {"draft.png": png_bytes(320, 240)})
    expect(upload_row(page, "draft.png")).to_contain_text("Uploading")
    page.get_by_role("button", name="Cancel upload of draft.png").click()
    expect(upload_row(page, "draft.png")).to_contain_text("Cancelled; nothing was kept")
    # The aborted request goes nowhere: its held route is aborted before the route is removed
    # (removing it continues the routes it holds, which could still reach the server).
    for route in held:
        try:
            route.abort()
        except PlaywrightError:  # handled already
            pass
    page.unroute("**/media/upload")
    upload_row(page, "draft.png").get_by_role("button", name="Dismiss draft.png").click()
    expect(upload_row(page, "draft.png")).to_have_count(0)
    page.reload()
    expect(page.get_by_text("Your library is empty.")).to_be_visible()


def test_cancel_a_resumable_upload_terminates_it(page, live_server):
    email = live_server.create_instructor(name="Resumable Cancel")
    log_in(page, email)
    methods = []
    page.on("request", lambda request: "/uploads/" in request.url and methods.append(request.method))
    held, release = hold(page, "**/uploads/**", methods=("PATCH",))
    with page.expect_request(lambda request: request.method == "PATCH" and "/uploads/" in request.url):
        choose_files(page, {"long lecture.jpg": big_file()})
    page.get_by_role("button", name="Cancel upload of long lecture.jpg").click()
    expect(upload_row(page, "long lecture.jpg")).to_contain_text("Cancelled")
    release()
    expect(upload_row(page, "long lecture.jpg")).to_contain_text("Cancelled")
    page.wait_for_timeout(500)
    assert "DELETE" in methods, methods  # tus termination
    with live_server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ResumableUpload)
                                 .where(ResumableUpload.filename == "long lecture.jpg")) == 0
        db.session.remove()


def test_pause_all_and_resume_all(page, live_server):
    log_in(page, live_server.create_instructor(name="Pause All"))
    content = big_file()
    slow, patches = [], []

    def slow_first_chunk(route, request):  # a slow network: the first chunk waits for the test's say-so
        if request.method == "PATCH":
            patches.append(request)
            if len(patches) == 1:
                slow.append(route)
                return
        route.continue_()

    page.route("**/uploads/**", slow_first_chunk)
    with page.expect_request(lambda request: request.method == "PATCH" and "/uploads/" in request.url):
        choose_files(page, {"recording.jpg": content})
    page.get_by_role("button", name="Pause all").click()
    expect(upload_row(page, "recording.jpg")).to_contain_text("Paused at")
    expect(summary(page)).to_contain_text("Paused")
    try:
        slow.pop().continue_()
    except PlaywrightError:  # the paused request was aborted: its route is handled already
        pass
    page.get_by_role("button", name="Resume all").click()
    expect(card(page, "recording.jpg")).to_have_attribute("data-status", "ready", timeout=90_000)
    expect(summary(page)).to_have_text("1 of 1 uploaded")


def test_the_open_panel_never_covers_a_card(page, live_server):
    log_in(page, live_server.create_instructor(name="Docked Panel"))
    page.set_viewport_size({"width": 1366, "height": 900})
    held, release = hold(page, "**/media/upload")
    choose_files(page, {f"photo {number}.png": png_bytes(50 + number, 40) for number in range(3)})
    expect(summary(page)).to_contain_text("of 3")
    release()
    expect(cards(page)).to_have_count(3, timeout=30_000)
    # Measured at one moment in the page (the results refresh themselves as the files become ready).
    covered = page.evaluate("""() => {
        const panel = document.getElementById("upload-panel").getBoundingClientRect();
        return [...document.querySelectorAll(".media-card")].filter((card) => card.getBoundingClientRect().right > panel.left).length;
    }""")
    assert covered == 0, f"{covered} cards are under the activity panel"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.get_by_role("button", name="Collapse activity").click()
    expect(page.locator("#operation-list")).to_be_hidden()
    expect(summary(page)).to_be_visible()  # collapsed, the panel is its summary line
    screenshot(page, "uploads-docked-collapsed")


def test_the_drop_overlay_says_which_dragged_files_will_be_refused(page, live_server):
    log_in(page, live_server.create_instructor(name="Dragging Files"))

    def drag(types):
        page.evaluate("""(types) => {
            const transfer = new DataTransfer();
            types.forEach((type, index) => transfer.items.add(new File(["x"], `file ${index}`, {type})));
            document.dispatchEvent(new DragEvent("dragenter", {bubbles: true, cancelable: true, dataTransfer: transfer}));
        }""", types)

    drag(["image/png", "video/mp4", "application/zip"])
    overlay = page.locator("#drop-overlay")
    expect(overlay).to_be_visible()
    expect(overlay.locator("#drop-title")).to_have_text("Drop 3 files to upload")
    expect(overlay.locator("#drop-refused")).to_have_text(
        "1 file of 3 is of a type the library does not take (application/zip) and will be refused; the others go up.")
    screenshot(page, "drop-overlay-refused")
    page.evaluate("document.dispatchEvent(new DragEvent('dragleave', {bubbles: true, dataTransfer: new DataTransfer()}))")
    drag(["application/pdf", "audio/wav"])  # audio of any kind is taken (browsers name it in many ways)
    expect(overlay.locator("#drop-refused")).to_be_hidden()
