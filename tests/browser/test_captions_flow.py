"""Captions in the browser (issue 14 §1): an instructor adds a WebVTT file to a video in its details,
and the player has the track with its cues; a malformed file is refused at its line, in the form;
at laptop and phone width, without console errors or axe violations."""
import re

import pytest
from playwright.sync_api import expect

from page_actions import INSTRUCTOR, axe_violations, log_in, open_details, screenshot, settled, upload_and_wait

SIZES = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nToday: shortest paths.\n\n00:00:01.000 --> 00:00:02.000\nDijkstra's algorithm\n"
BROKEN = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nFine\n\n00:00:01.000 -> 00:00:02.000\nBroken arrow\n"
# The cues of the player's first caption track once it has loaded them (a track loads when it is shown).
PLAYER_CUES = """async (video) => {
  const track = Array.from(video.textTracks).find((t) => t.kind === "subtitles");
  if (!track) return null;
  track.mode = "hidden";
  for (let tries = 0; tries < 100 && !(track.cues && track.cues.length); tries++) await new Promise((done) => setTimeout(done, 50));
  return {label: track.label, language: track.language, cues: Array.from(track.cues || []).map((cue) => cue.text)};
}"""


@pytest.mark.console_errors(r"status of 422")  # the refused file comes back as 422, with the form and its message
@pytest.mark.parametrize("size", SIZES)
def test_captions_added_in_the_details_play_in_the_preview(page, samples, size):
    page.set_viewport_size(SIZES[size])
    log_in(page, INSTRUCTOR)
    name = f"Shortest paths {size}.webm"
    upload_and_wait(page, {name: samples.video_bytes()})
    dialog = open_details(page, name)
    captions = dialog.get_by_role("region", name="Captions")
    expect(captions).to_contain_text("No captions yet.")

    captions.get_by_label("Caption file").set_input_files(
        {"name": "lecture.vtt", "mimeType": "text/vtt", "buffer": BROKEN})
    captions.get_by_label("Language").select_option(label="English")
    captions.get_by_role("button", name="Add captions").click()
    error = dialog.get_by_role("region", name="Captions").locator(".field-error")
    expect(error).to_have_text("Line 6: “00:00:01.000 -> 00:00:02.000” is not a cue timing: write it as "
                               "“HH:MM:SS.mmm --> HH:MM:SS.mmm” (hours may be left out).")

    captions = dialog.get_by_role("region", name="Captions")
    captions.get_by_label("Caption file").set_input_files({"name": "lecture.vtt", "mimeType": "text/vtt", "buffer": VTT})
    captions.get_by_label("Label").fill("English (CC)")
    captions.get_by_role("button", name="Add captions").click()
    expect(page.locator(".toast").filter(has_text="Added the English captions: 2 cues.")).to_be_visible()
    expect(dialog.locator(".caption-track")).to_contain_text("English (CC)")
    settled(page)
    player = dialog.locator("video")
    assert player.evaluate(PLAYER_CUES) == {"label": "English (CC)", "language": "en",
                                            "cues": ["Today: shortest paths.", "Dijkstra's algorithm"]}
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= SIZES[size]["width"], f"{wide} px wide"
    dialog.get_by_role("region", name="Captions").scroll_into_view_if_needed()
    screenshot(page, f"captions-{size}")
    assert axe_violations(page) == []

    # Found by a word that is said in it, and the card says when.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Focus back on the card: the page restored from history has been wired (a search typed before
    # that would reach an input no handler listens to yet).
    expect(page.locator(".media-card .card-link").first).to_be_focused()
    settled(page)
    search = page.get_by_role("searchbox").first  # at once: the results' refresh after the restore is on its way
    search.fill("dijkstra")
    expect(page).to_have_url(re.compile(r"q=dijkstra"))
    expect(page.locator(".results-summary")).to_contain_text("1 file")
    expect(page.locator(".match-reason")).to_have_text("Said at 0:01 (English (CC)): Dijkstra's algorithm")
    dialog = open_details(page, name)

    # A cue corrected in place: its own request, its row says so.
    dialog.locator("summary").filter(has_text="Edit cues").click()
    text = dialog.get_by_role("textbox", name="Text of cue 2")
    expect(text).to_have_value("Dijkstra's algorithm")
    text.fill("Dijkstra's shortest-path algorithm")
    dialog.get_by_label("End of cue 2").fill("0:02.5")
    dialog.get_by_role("button", name="Save cue 2").click()
    expect(dialog.locator("#" + dialog.locator(".cue").nth(1).get_attribute("id")).get_by_role("status")).to_have_text("Saved.")
    expect(dialog.get_by_label("End of cue 2")).to_have_value("0:02.500")
    # The player shows the cue as it is now (its track swapped in with the saved cue).
    expect(dialog.locator("video track[kind=subtitles]")).to_have_count(1)
    assert dialog.locator("video").evaluate(PLAYER_CUES)["cues"] == ["Today: shortest paths.", "Dijkstra's shortest-path algorithm"]
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    screenshot(page, f"cue-editor-{size}")
    assert axe_violations(page) == []

    with page.expect_download() as download:
        dialog.get_by_role("link", name="Download the English (CC) captions").click()
    assert download.value.suggested_filename == f"Shortest paths {size}.en.vtt"

    page.once("dialog", lambda confirm: confirm.accept())
    dialog.get_by_role("button", name="Remove the English (CC) captions").click()
    expect(dialog.get_by_role("region", name="Captions")).to_contain_text("No captions yet.")
    expect(dialog.locator("video track[kind=subtitles]")).to_have_count(0)
