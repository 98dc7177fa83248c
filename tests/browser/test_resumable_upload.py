"""Large files go up resumably (tus-js-client, vendored): a dropped connection resumes at the
server's offset instead of from the start, and after a reload the panel offers Resume."""
import pytest
from playwright.sync_api import expect

import media_samples
from page_actions import card, choose_files, log_in, screenshot

SIZE = 4 * 1000 * 1000  # above the live server's RESUMABLE_THRESHOLD_BYTES (3 MB), in four chunks


def big_file():
    return media_samples.jpeg_bytes(1200, 900) + b"\0" * SIZE  # JPEG readers stop at the end marker


def patch_offsets(page, cut_at_second_patch):
    """Record the Upload-Offset of every PATCH; optionally cut the connection of the second one."""
    offsets, state = [], {"cut": None}

    def handle(route, request):
        if request.method == "PATCH":
            offset = int(request.headers["upload-offset"])
            offsets.append(offset)
            if cut_at_second_patch and state["cut"] is None and offset > 0:
                state["cut"] = offset
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/uploads/**", handle)
    return offsets, state


@pytest.mark.console_errors(r"ERR_CONNECTION_RESET")  # the connection is cut on purpose
def test_a_dropped_connection_resumes_from_the_servers_offset(page, live_server):
    log_in(page, live_server.create_instructor())
    offsets, state = patch_offsets(page, cut_at_second_patch=True)
    choose_files(page, {"poster.jpg": big_file()})
    expect(card(page, "poster.jpg")).to_have_attribute("data-status", "ready", timeout=90_000)
    assert state["cut"], offsets
    assert offsets[0] == 0 and offsets.count(0) == 1  # never started again from the beginning
    assert offsets.count(state["cut"]) == 2  # the cut chunk was sent again, from where the server stood
    screenshot(page, "resumable-upload-done")


@pytest.mark.console_errors(r"ERR_CONNECTION_RESET")  # the connection is cut on purpose
def test_after_a_reload_the_panel_offers_resume(page, live_server):
    log_in(page, live_server.create_instructor())
    content = big_file()
    offsets = []

    def hold_after_first_chunk(route, request):
        if request.method == "PATCH":
            offsets.append(int(request.headers["upload-offset"]))
            if len(offsets) > 1:
                route.abort("connectionreset")  # the laptop lid closes after the first chunk
                return
        route.continue_()

    page.route("**/uploads/**", hold_after_first_chunk)
    choose_files(page, {"lecture poster.jpg": content})
    expect(page.locator("#operation-list")).to_contain_text("resuming", timeout=30_000)
    page.reload()  # with the connection still down: on a slow machine a retry could otherwise finish it first
    page.unroute("**/uploads/**")
    paused = page.locator("#operation-list > li[data-status='paused']")
    expect(paused).to_contain_text("lecture poster.jpg")
    on_server = offsets[1]  # the first chunk arrived whole; the second was cut
    expect(paused).to_contain_text(f"Paused at {100 * on_server // len(content)}%")  # the server's offset, not 0
    screenshot(page, "resumable-upload-paused")
    resumed_at = []
    page.route("**/uploads/**", lambda route, request: (
        request.method == "PATCH" and resumed_at.append(int(request.headers["upload-offset"])), route.continue_()))
    with page.expect_file_chooser() as chooser:
        paused.get_by_role("button", name="Resume lecture poster.jpg").click()
    chooser.value.set_files([{"name": "lecture poster.jpg", "mimeType": "image/jpeg", "buffer": content}])
    expect(card(page, "lecture poster.jpg")).to_have_attribute("data-status", "ready", timeout=90_000)
    assert resumed_at[0] == on_server, resumed_at  # it went on from there
