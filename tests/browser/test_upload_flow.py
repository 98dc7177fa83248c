"""Uploading in the browser: drag and drop, the Upload files button, progress without a websocket,
and file names that look like markup."""
import re

import pytest
from playwright.sync_api import expect

from page_actions import INSTRUCTOR, card, choose_files, drop_files, log_in, screenshot, upload_row

# Stands in for a network (a proxy, a firewall) where the progress websocket never connects.
NO_WEBSOCKETS = """
window.WebSocket = class UnreachableWebSocket extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 3;
    setTimeout(() => {
      const error = new Event("error"), close = new CloseEvent("close", {code: 1006});
      if (this.onerror) this.onerror(error);
      this.dispatchEvent(error);
      if (this.onclose) this.onclose(close);
      this.dispatchEvent(close);
    }, 0);
  }
  send() { throw new DOMException("The websocket is closed", "InvalidStateError"); }
  close() {}
};
"""


def test_dropped_video_image_and_pdf_become_ready_with_thumbnails(page, samples):
    log_in(page, INSTRUCTOR)
    files = {"Welcome lecture.webm": samples.video_bytes(), "Campus map.jpg": samples.jpeg_bytes(),
             "Syllabus.pdf": samples.pdf_bytes()}

    drop_files(page, files)

    for name in files:
        expect(upload_row(page, name).locator(".op-stage")).to_have_text("Ready")
        expect(card(page, name)).to_have_attribute("data-status", "ready")
    for name in ("Welcome lecture.webm", "Campus map.jpg"):
        thumbnail = card(page, name).locator(".thumb img")
        expect(thumbnail).to_be_visible()
        expect(thumbnail).to_have_js_property("complete", True)
        assert thumbnail.evaluate("img => img.naturalWidth") > 0
    expect(card(page, "Welcome lecture.webm").locator(".duration")).to_have_text("0:02")
    expect(page.locator("#drop-overlay")).to_be_hidden()
    screenshot(page, "upload-flow")


def test_files_chosen_with_the_upload_button_become_ready(instructor_page, samples):
    page = instructor_page

    choose_files(page, {"Chapter 2.png": samples.png_bytes(), "Listening exercise.wav": samples.wav_bytes()})

    for name in ("Chapter 2.png", "Listening exercise.wav"):
        expect(upload_row(page, name).locator(".op-stage")).to_have_text("Ready")
        expect(card(page, name)).to_have_attribute("data-status", "ready")
    expect(page.locator(".results-summary")).to_have_text("2 files")


@pytest.mark.console_errors(r"^console: \[object Event\]$")  # htmx's websocket extension logs each refused connection
def test_without_a_websocket_the_panel_and_the_card_reach_ready(instructor_page, samples):
    page = instructor_page
    page.add_init_script(NO_WEBSOCKETS)
    page.reload()
    expect(page.locator("#connection-state")).to_have_text("polling")

    choose_files(page, {"Offline slides.pdf": samples.pdf_bytes()})

    expect(upload_row(page, "Offline slides.pdf").locator(".op-stage")).to_have_text("Ready")
    # Once the panel says Ready, the card follows with the same answer or the next poll (every 3 s).
    expect(card(page, "Offline slides.pdf")).to_have_attribute("data-status", "ready", timeout=5_000)


@pytest.mark.console_errors(r"^console: \[object Event\]$")  # htmx's websocket extension logs each refused connection
def test_without_a_websocket_polling_follows_a_long_upload_to_ready(instructor_page, samples):
    page = instructor_page
    page.add_init_script(NO_WEBSOCKETS)
    # The row's one catch-up request finds nothing new, as when processing outlasts it: polling must finish the job.
    page.route(re.compile(r"/operations/\d+$"), lambda route: route.fulfill(status=204))
    page.reload()
    expect(page.locator("#connection-state")).to_have_text("polling")

    choose_files(page, {"Long recording.webm": samples.video_bytes()})

    expect(upload_row(page, "Long recording.webm").locator(".op-stage")).to_have_text("Ready")
    expect(card(page, "Long recording.webm")).to_have_attribute("data-status", "ready")
    expect(card(page, "Long recording.webm").locator(".thumb img")).to_be_visible()


def test_a_file_whose_upload_answer_comes_after_its_progress_is_listed_once(instructor_page, samples):
    page = instructor_page

    def answer_late(route):  # a slow network: the worker's progress overtakes the upload's answer
        response = route.fetch()
        page.locator('#operation-list > li[data-status="succeeded"]').wait_for()
        route.fulfill(response=response)
    page.route("**/media/upload", answer_late)

    choose_files(page, {"Slow network.png": samples.png_bytes()})

    expect(page.locator('#operation-list > li[data-status="uploading"]')).to_have_count(0)  # the answer is in
    assert upload_row(page, "Slow network.png").count() == 1
    expect(card(page, "Slow network.png")).to_have_attribute("data-status", "ready")


@pytest.mark.parametrize("chosen, shown", [
    # A name is a label, not a path: the "/" is kept as a look-alike ("∕"), nothing is cut.
    ("<script>alert(1)</script>.png", "<script>alert(1)<\u2215script>.png"),
    ("<img src=x onerror=alert(1)>.png", "<img src=x onerror=alert(1)>.png"),
], ids=["script-tag", "img-onerror"])
def test_a_file_name_with_markup_is_shown_as_text(instructor_page, samples, chosen, shown):
    page = instructor_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    drop_files(page, {chosen: samples.png_bytes()})

    expect(upload_row(page, shown).locator(".op-stage")).to_have_text("Ready")
    expect(card(page, shown)).to_have_attribute("data-status", "ready")
    expect(card(page, shown).locator(".card-name")).to_have_text(shown)
    expect(upload_row(page, shown).locator(".op-title")).to_have_text(shown)
    expect(page.locator("#main script, #upload-panel script, img[src='x']")).to_have_count(0)
    assert dialogs == []
