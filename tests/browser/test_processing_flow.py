"""Processing in the browser (issue 14 §4): trim a video from its details with "Use current time",
follow the job in the Activity panel, and restore the untrimmed version from the version list."""
from playwright.sync_api import expect

from media_lab import Segment, lecture
from page_actions import INSTRUCTOR, axe_violations, log_in, open_details, screenshot, settled, upload_and_wait

SLIDES = [Segment(2, 0, -14), Segment(2, 1, -14), Segment(2, 2, -14), Segment(2, 3, -14)]  # 8 s


def test_trim_a_video_and_restore_the_untrimmed_version(page, tmp_path):
    log_in(page, INSTRUCTOR)
    name = "Trim me.webm"
    upload_and_wait(page, {name: lecture(tmp_path / name, SLIDES, size=(320, 180), video_codec="libvpx",
                                         audio_codec="libopus").read_bytes()})
    dialog = open_details(page, name)
    processing = dialog.get_by_role("region", name="Processing")
    processing.get_by_label("Start", exact=True).fill("0:02")
    dialog.locator("video").evaluate("(video) => { video.currentTime = 6; }")
    page.wait_for_function("() => Math.abs(document.querySelector('#details-body video').currentTime - 6) < 0.1")
    processing.get_by_role("button", name="Use current time for the end").click()
    expect(processing.get_by_label("End", exact=True)).to_have_value("0:06")
    screenshot(page, "processing-laptop")
    assert axe_violations(page) == []
    processing.get_by_role("button", name="Trim", exact=True).click()
    expect(page.locator(".toast").filter(has_text="Trim “Trim me.webm” to 0:02–0:06: started.")).to_be_visible()
    row = page.locator(".operation.kind-processing")
    expect(row).to_contain_text("Done: Becomes the file's next version once it is stored.", timeout=30_000)

    page.keyboard.press("Escape")
    settled(page)
    expect(page.locator(".operation.kind-upload").filter(has_text="replacing with Trim me (trimmed)")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000)
    dialog = open_details(page, name)
    versions = dialog.get_by_role("region", name="Versions")
    expect(versions).to_contain_text("Trim me (trimmed)")
    expect(dialog.locator(".properties")).to_contain_text("0:04")
    versions.get_by_role("button", name="Restore this version (version 1)").click()
    expect(page.locator(".toast").filter(has_text="Version 1 restored: it is now version 3.")).to_be_visible()
    expect(dialog.locator(".properties")).to_contain_text("0:08")
