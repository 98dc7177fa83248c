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
    track = re.search(r'<track kind="subtitles" src="([^"]+)" srclang="en" label="English" default>', page)
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
