"""The Captions section of a file's details: add a WebVTT or SRT track per language, see it in the
player as a <track> with a signed address, download, relabel, replace and remove it; each change in
the history; refusals with the line; another user's captions answer 404."""
import html
import io
import json
import re

import pytest
import sqlalchemy as sa

from mediamgr.captions.models import Caption
from mediamgr.extensions import db
from mediamgr.library.models import MediaEvent, MediaFile

from factories import make_files

VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nToday: shortest paths.\n\n00:00:04.000 --> 00:00:09.500\nDijkstra's algorithm\n"
SRT = b"1\n00:00:01,000 --> 00:00:03,000\nHoy: caminos m\xc3\xa1s cortos.\n"


def video(email="ada@example.com"):
    return make_files(email, 1, kind="video", prefix="lecture")[0]


def add(browser, media_id, data, name="lecture.vtt", language="en", label="", htmx=True):
    return browser.post(f"/media/{media_id}/captions", {"captions-file": (io.BytesIO(data), name),
                                                        "captions-language": language, "captions-label": label},
                        htmx=htmx, content_type="multipart/form-data")


def history(media_id):
    return [event.description for event in db.session.scalars(
        sa.select(MediaEvent).where(MediaEvent.media_id == media_id).order_by(MediaEvent.id))]


@pytest.mark.both_databases
def test_captions_are_added_played_downloaded_relabelled_replaced_and_removed(ada):
    media_id = video()
    details = ada.get(f"/media/{media_id}", htmx=True).get_data(as_text=True)
    assert "Captions</h3>" in details and "No captions yet." in details
    assert '<label for="captions-file">Caption file</label>' in details
    assert '<label for="captions-language">Language</label>' in details

    added = add(ada, media_id, VTT)
    page = added.get_data(as_text=True)
    assert added.status_code == 200, page
    assert "Added the English captions: 2 cues." in page
    track = re.search(r'<track id="track-\d+" kind="subtitles" src="([^"]+)" srclang="en" label="English" default>', page)
    assert track, page
    played = ada.get(html.unescape(track.group(1)))
    assert played.status_code == 200 and played.headers["Content-Type"] == "text/vtt; charset=utf-8"
    assert "Dijkstra's algorithm" in played.get_data(as_text=True)

    spanish = add(ada, media_id, SRT, name="clase.srt", language="es", label="Español (CC)")
    assert "Added the Spanish captions: 1 cue (converted from SRT)." in spanish.get_data(as_text=True)
    caption = db.session.scalar(sa.select(Caption).where(Caption.language == "es"))
    download = ada.get(f"/media/{media_id}/captions/{caption.id}.vtt")
    assert download.headers["Content-Disposition"] == "attachment; filename=\"lecture 00000.es.vtt\""
    assert download.get_data(as_text=True).startswith("WEBVTT") and "caminos más cortos" in download.get_data(as_text=True)

    relabelled = ada.post(f"/media/{media_id}/captions/{caption.id}/label", {"label": "Spanish <b>CC</b>"})
    assert "The captions are labelled “Spanish &lt;b&gt;CC&lt;/b&gt;”." in relabelled.get_data(as_text=True)

    replaced = add(ada, media_id, VTT, language="es", label="Spanish")
    assert "Replaced the Spanish captions: 2 cues." in replaced.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Caption)) == 2

    removed = ada.post(f"/media/{media_id}/captions/{caption.id}/remove")
    assert "Removed the captions “Spanish”." in removed.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Caption)) == 1
    assert history(media_id) == ["Added the English captions (2 cues)", "Added the Spanish captions (1 cue)",
                                 "Renamed the captions “Español (CC)” to “Spanish <b>CC</b>”",
                                 "Replaced the Spanish captions (2 cues)", "Removed the Spanish captions “Spanish”"]


def test_a_malformed_file_is_refused_with_its_line_and_nothing_is_stored(ada):
    media_id = video()
    refused = add(ada, media_id, b"WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nHello\n")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="captions-file-error">Line 3: “00:00:01.000 --&gt; 00:00:0x.000” is not a cue timing' in page
    assert 'aria-invalid="true"' in page
    wrong_type = add(ada, media_id, b"\x89PNG\r\n", name="slide.png")
    assert wrong_type.status_code == 422
    assert "Caption files are WebVTT (.vtt) or SRT (.srt) files." in wrong_type.get_data(as_text=True)
    none = ada.post(f"/media/{media_id}/captions", {"captions-language": "en"}, content_type="multipart/form-data")
    assert none.status_code == 422 and "Choose a caption file (.vtt or .srt)." in none.get_data(as_text=True)
    unknown = add(ada, media_id, VTT, language="xx-evil")
    assert unknown.status_code == 422 and "Choose the language of the captions from the list." in unknown.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Caption)) == 0
    assert history(media_id) == []


def test_without_javascript_the_form_posts_and_comes_back_to_the_details_page(ada):
    media_id = video()
    answer = add(ada, media_id, VTT, htmx=False)
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/media/{media_id}")
    assert "Added the English captions: 2 cues." in ada.get(f"/media/{media_id}").get_data(as_text=True)


def test_documents_and_images_have_no_captions(ada):
    document = make_files("ada@example.com", 1)[0]
    assert "Captions</h" not in ada.get(f"/media/{document}", htmx=True).get_data(as_text=True)
    refused = add(ada, document, VTT)
    assert refused.status_code == 422 and "Only videos and audio files have captions." in refused.get_data(as_text=True)


def test_another_users_captions_answer_404_and_a_forged_track_address_too(ada, ben):
    media_id = video()
    add(ada, media_id, VTT)
    caption = db.session.scalar(sa.select(Caption))
    assert add(ben, media_id, VTT).status_code == 404
    for url in (f"/media/{media_id}/captions/{caption.id}.vtt",):
        assert ben.get(url).status_code == 404
    for url in (f"/media/{media_id}/captions/{caption.id}/label", f"/media/{media_id}/captions/{caption.id}/remove"):
        assert ben.post(url, {"label": "mine"}).status_code == 404
    assert ben.get("/tracks/forged-token.vtt").status_code == 404
    assert db.session.get(Caption, caption.id).label == "English"


def test_a_form_without_its_csrf_token_is_refused(ada):
    media_id = video()
    answer = ada.client.post(f"/media/{media_id}/captions", data={"captions-file": (io.BytesIO(VTT), "a.vtt"),
                                                                   "captions-language": "en"},
                             content_type="multipart/form-data")
    assert answer.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Caption)) == 0


def test_a_file_in_the_trash_keeps_its_captions_unchanged_and_deleting_it_removes_them(ada):
    media_id = video()
    add(ada, media_id, VTT)
    caption = db.session.scalar(sa.select(Caption))
    ada.post(f"/media/{media_id}/trash", {"unlink": "1"})
    details = ada.get(f"/media/{media_id}", htmx=True).get_data(as_text=True)
    assert "English · 2 cues" in details and "Add captions" not in details and "Save label" not in details
    assert ada.post(f"/media/{media_id}/captions/{caption.id}/remove").status_code == 409
    ada.post(f"/media/{media_id}/delete")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Caption)) == 0


@pytest.mark.both_databases
def test_captions_travel_with_an_export_into_another_account(ada, ben):
    media_id = make_files("ada@example.com", 1, kind="video", prefix="lecture", stored=True)[0]
    add(ada, media_id, VTT)
    add(ada, media_id, SRT, name="clase.srt", language="es", label="Español")
    document = ada.client.get("/media/export.json", buffered=True).get_json()
    tracks = document["files"][0]["captions"]
    assert [(track["language"], track["label"]) for track in tracks] == [("en", "English"), ("es", "Español")]
    assert tracks[0]["vtt"].startswith("WEBVTT") and "Dijkstra's algorithm" in tracks[0]["vtt"]

    broken = {**document, "files": [{**document["files"][0], "captions": [
        {**tracks[0], "vtt": "WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nHello\n"}, {**tracks[1], "language": "klingon"}]}]}
    refused = ben.client.post("/media/import", data={"action": "import", "document": (io.BytesIO(json.dumps(broken).encode()), "l.json")},
                              headers=ben.headers(), content_type="multipart/form-data").get_data(as_text=True)
    assert "files[0].captions[0].vtt: Line 3: “00:00:01.000 --&gt; 00:00:0x.000” is not a cue timing" in refused
    assert "files[0].captions[1].language: “klingon” is not one of the caption languages" in refused

    imported = ben.client.post("/media/import", data={"action": "import", "document": (io.BytesIO(json.dumps(document).encode()), "l.json")},
                               headers=ben.headers(), content_type="multipart/form-data")
    assert "Imported 1 files" in imported.get_data(as_text=True)
    bens = db.session.scalars(sa.select(Caption).where(Caption.owner_id != db.session.get(Caption, 1).owner_id)
                              .order_by(Caption.language)).all()
    assert [(track.language, track.label, track.cue_count) for track in bens] == [("en", "English", 2), ("es", "Español", 1)]
    assert "lecture 00000.mp4" in ben.get("/media/grid?q=dijkstra", htmx=True).get_data(as_text=True)  # searchable
    again = ben.client.get("/media/export.json", buffered=True).get_json()
    assert [{key: track[key] for key in ("language", "label", "vtt")} for track in again["files"][0]["captions"]] == \
        [{key: track[key] for key in ("language", "label", "vtt")} for track in tracks]


def test_merging_duplicates_keeps_the_captions_of_every_copy(ada, worker):
    keep, other, third = make_files("ada@example.com", 3, kind="video", prefix="copy")
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_([keep, other, third])).values(sha256="0" * 64))
    db.session.commit()
    add(ada, keep, VTT, language="en")
    add(ada, other, VTT, language="en", label="Other English")  # keep has English already: goes with its file
    add(ada, third, SRT, language="es", label="Español")
    answer = ada.post("/media/duplicates/merge", {"sha256": "0" * 64, "keep": str(keep)})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    worker()
    db.session.expire_all()
    kept = db.session.scalars(sa.select(Caption).where(Caption.media_id == keep).order_by(Caption.language)).all()
    assert [(track.language, track.label) for track in kept] == [("en", "English"), ("es", "Español")]
    assert "Took the Spanish captions “Español” from “copy 00002.mp4”" in history(keep)
    assert "lecture" not in ada.get("/media/grid?q=caminos", htmx=True).get_data(as_text=True)
    assert "copy 00000.mp4" in ada.get("/media/grid?q=caminos", htmx=True).get_data(as_text=True)


def cue_rows(page):
    return re.findall(r'<li class="cue[^"]*" id="cue-\d+-(\d+)">.*?name="was" value="([0-9a-f]+)".*?name="start" value="([^"]*)"'
                      r'.*?name="end" value="([^"]*)".*?<textarea[^>]*>([^<]*)</textarea>', page, re.S)


@pytest.mark.both_databases
def test_a_cue_is_corrected_in_place_one_request_per_cue(ada):
    media_id = video()
    add(ada, media_id, VTT)
    caption = db.session.scalar(sa.select(Caption))
    editor = ada.get(f"/media/{media_id}/captions/{caption.id}/cues", htmx=True).get_data(as_text=True)
    rows = cue_rows(editor)
    assert [(index, start, end, text) for index, _was, start, end, text in rows] == [
        ("0", "0:01.000", "0:04.000", "Today: shortest paths."), ("1", "0:04.000", "0:09.500", "Dijkstra&#39;s algorithm")]
    was = rows[1][1]

    url = f"/media/{media_id}/captions/{caption.id}/cues/1"
    saved = ada.post(url, {"was": was, "start": "0:04.2", "end": "10", "text": "Dijkstra's  algorithm,\r\nexplained <b>"})
    assert saved.status_code == 200 and "Saved." in saved.get_data(as_text=True)
    db.session.expire_all()
    track = db.session.get(Caption, caption.id)
    assert "00:00:04.200 --> 00:00:10.000\nDijkstra's algorithm,\nexplained <b>" in track.vtt
    assert "dijkstra's algorithm, explained" in track.search_text  # the words, without markup
    assert "Edited the cue at 0:04.200 of the captions “English”" in history(media_id)
    assert "&lt;b&gt;" in saved.get_data(as_text=True)  # the cue's text is shown as text

    stale = ada.post(url, {"was": was, "start": "0:05", "end": "0:06", "text": "Overwrite"})  # the cue as it was before
    assert stale.status_code == 422 and "This cue has changed since the captions were opened" in stale.get_data(as_text=True)
    fresh_was = cue_rows(stale.get_data(as_text=True))[0][1]
    for start, end, text, says in (("0:09", "0:05", "x", "The cue ends (0:05.000) before it starts (0:09.000)."),
                                   ("soon", "0:05", "x", "“soon” is not a time"),
                                   ("0:01", "0:02", "  ", "A cue needs some text"),
                                   ("0:01", "0:02", "a --> b", "cannot hold “--&gt;”")):
        refused = ada.post(url, {"was": fresh_was, "start": start, "end": end, "text": text})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 422 and says in page, page
        assert f'name="start" value="{start}"' in page  # what was typed, to correct
    db.session.expire_all()
    assert db.session.get(Caption, caption.id).vtt == track.vtt
    assert ada.post(f"/media/{media_id}/captions/{caption.id}/cues/7", {"was": fresh_was, "start": "1", "end": "2",
                                                                       "text": "x"}).status_code == 422


def test_another_users_cues_answer_404(ada, ben):
    media_id = video()
    add(ada, media_id, VTT)
    caption = db.session.scalar(sa.select(Caption))
    assert ben.get(f"/media/{media_id}/captions/{caption.id}/cues").status_code == 404
    assert ben.post(f"/media/{media_id}/captions/{caption.id}/cues/0", {"was": "x", "start": "1", "end": "2",
                                                                       "text": "mine"}).status_code == 404


def test_a_long_track_is_shown_a_hundred_cues_at_a_time(ada):
    media_id = video()
    many = "WEBVTT\n\n" + "".join(f"{index // 60:02d}:{index % 60:02d}.000 --> {index // 60:02d}:{index % 60:02d}.500\n"
                                  f"Cue {index}\n\n" for index in range(250))
    add(ada, media_id, many.encode())
    caption = db.session.scalar(sa.select(Caption))
    first = ada.get(f"/media/{media_id}/captions/{caption.id}/cues", htmx=True).get_data(as_text=True)
    assert len(cue_rows(first)) == 100 and "Show the next cues (101–200 of 250)" in first
    last = ada.get(f"/media/{media_id}/captions/{caption.id}/cues?start=200", htmx=True).get_data(as_text=True)
    assert [row[4] for row in cue_rows(last)][:2] == ["Cue 200", "Cue 201"] and "Show the next" not in last
    page = ada.get(f"/media/{media_id}/captions/{caption.id}/cues").get_data(as_text=True)  # without JavaScript: a page
    assert "<h1" in page and "Cues of “English”" in page
