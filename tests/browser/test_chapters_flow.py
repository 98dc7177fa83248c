"""Chapter markers and the quality report in the browser (issue 14 §2, §3): after an upload the
details show the proposed chapters and the quality report without a reload; the instructor renames a
chapter and plays from it, and the player's chapters track follows; laptop and phone, no console
errors, no axe violations."""
import pytest
from playwright.sync_api import expect

from media_lab import Segment, lecture
from page_actions import INSTRUCTOR, axe_violations, log_in, open_details, screenshot, settled, upload_and_wait

SIZES = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
SLIDES = [Segment(4, 0, -36), Segment(4, 1, -36), Segment(4, 2, -36), Segment(4, 3, -36)]  # quiet: about −40 LUFS
CHAPTER_CUES = """async (video) => {
  const track = Array.from(video.textTracks).find((t) => t.kind === "chapters");
  track.mode = "hidden";
  for (let tries = 0; tries < 100 && !(track.cues && track.cues.length); tries++) await new Promise((done) => setTimeout(done, 50));
  return Array.from(track.cues || []).map((cue) => [Math.round(cue.startTime), cue.text]);
}"""


@pytest.mark.parametrize("size", SIZES)
def test_rename_a_proposed_chapter_and_play_from_it(page, size, tmp_path):
    page.set_viewport_size(SIZES[size])
    log_in(page, INSTRUCTOR)
    name = f"Graphs {size}.webm"
    video = lecture(tmp_path / name, SLIDES, size=(320, 180), video_codec="libvpx", audio_codec="libopus")
    upload_and_wait(page, {name: video.read_bytes()})
    dialog = open_details(page, name)

    chapters = dialog.get_by_role("region", name="Chapters")
    expect(chapters.get_by_role("button", name="Play from 0:04: Chapter 2")).to_be_visible(timeout=30_000)
    quality = dialog.get_by_role("region", name="Quality")
    expect(quality).to_contain_text("Audio is quiet", timeout=30_000)
    expect(quality.get_by_role("img")).to_have_attribute("alt", "Loudness over time, minus 40 LUFS on average; "
                                                                "the band is the −16 to −14 LUFS target.")
    expect(quality).to_contain_text("Needs attention")

    title = chapters.get_by_label("Title of the chapter at 0:04")
    title.fill("Shortest paths")
    title.press("Enter")
    expect(page.locator(".toast").filter(has_text="Saved the chapter “Shortest paths” at 0:04.")).to_be_visible()
    settled(page)
    player = dialog.locator("video")
    assert player.evaluate(CHAPTER_CUES)[:2] == [[0, "Chapter 1"], [4, "Shortest paths"]]

    dialog.get_by_role("region", name="Chapters").get_by_role("button", name="Play from 0:04: Shortest paths").click()
    page.wait_for_function("() => document.querySelector('#details-body video').currentTime >= 4")
    expect(dialog.locator(".marker[aria-current='true']")).to_contain_text("0:04")
    player.evaluate("(video) => video.pause()")

    strip = dialog.locator(".storyboard-strip")
    box = strip.bounding_box()
    strip.hover(position={"x": box["width"] * 0.55, "y": box["height"] / 2})
    expect(strip.locator(".storyboard-time")).to_have_text("0:08")
    strip.click(position={"x": box["width"] * 0.55, "y": box["height"] / 2})
    page.wait_for_function("() => Math.abs(document.querySelector('#details-body video').currentTime - 8.8) < 0.5")
    player.evaluate("(video) => video.pause()")
    screenshot(page, f"storyboard-{size}")

    dialog.get_by_role("button", name="Phone preview").click()
    frame = dialog.locator(".preview.phone-frame").bounding_box()
    video_box = player.bounding_box()
    assert abs(frame["width"] / frame["height"] - (390 + 24) / (844 + 96)) < 0.05 or size == "phone", frame
    assert video_box["width"] <= frame["width"]
    screenshot(page, f"phone-preview-{size}")
    dialog.get_by_role("button", name="Phone preview").click()
    expect(dialog.get_by_role("button", name="Phone preview")).to_have_attribute("aria-pressed", "false")

    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= SIZES[size]["width"], f"{wide} px wide"
    dialog.get_by_role("region", name="Chapters").scroll_into_view_if_needed()
    screenshot(page, f"chapters-{size}")
    dialog.get_by_role("region", name="Quality").scroll_into_view_if_needed()
    screenshot(page, f"quality-{size}")
    assert axe_violations(page) == []
