"""Search in what was said (issue 14 §1): the library finds a file by the words of its captions, counts
it, and the card says which cue matched and when; other users' captions find nothing; a library
without captions asks no more of the database than before."""
import html
import io
import re

import pytest
import sqlalchemy as sa

from mediamgr.captions.models import Caption
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile

from factories import make_files

LECTURE = (b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nToday: shortest paths.\n\n"
           b"00:12:34.000 --> 00:12:40.000\nThis is what Dijkstra proposed in 1956,\n"
           b"and it still routes your packets.\n")


def add_captions(browser, media_id, data=LECTURE, language="en", label="English"):
    answer = browser.post(f"/media/{media_id}/captions", {"captions-file": (io.BytesIO(data), "t.vtt"),
                                                          "captions-language": language, "captions-label": label},
                          content_type="multipart/form-data")
    assert answer.status_code == 200, answer.get_data(as_text=True)


def found(browser, q):
    page = browser.get(f"/media/grid?q={q}", htmx=True).get_data(as_text=True)
    names = [html.unescape(name) for name in re.findall(r'class="card-name" title="([^"]+)"', page)]
    total = re.search(r'class="results-summary"[^>]*>\s*([\d,+]+) files?', page)
    return names, page, total.group(1) if total else None


@pytest.mark.both_databases
def test_a_word_said_in_a_lecture_finds_it_and_the_card_says_when(ada):
    lecture, other = make_files("ada@example.com", 2, kind="video", prefix="graphs")
    add_captions(ada, lecture)
    names, page, total = found(ada, "dijkstra")
    assert names == ["graphs 00000.mp4"] and total == "1"
    reason = re.search(r'<p class="match-reason">(.*?)</p>', page, re.S).group(1)
    assert reason == ("Said at 12:34 (English): This is what <mark>Dijkstra</mark> proposed in 1956, "
                      "and it still routes your packets.")
    assert found(ada, "dijkstra routes")[0] == ["graphs 00000.mp4"]  # every word, in the same track
    assert found(ada, "dijkstra zeppelin")[0] == []
    assert found(ada, "graphs")[0] == ["graphs 00001.mp4", "graphs 00000.mp4"]  # by name, as before: no reason
    assert 'class="match-reason"' not in found(ada, "graphs")[1]

    db.session.execute(sa.update(MediaFile).where(MediaFile.id == other).values(
        description="Dijkstra's notes", search_text="graphs 00001.mp4 dijkstra's notes"))
    db.session.commit()
    names, page, total = found(ada, "dijkstra")
    assert sorted(names) == ["graphs 00000.mp4", "graphs 00001.mp4"] and total == "2"
    assert "Matched in description: <mark>Dijkstra</mark>&#39;s notes" in page

    assert found(ada, "dijkstra&type=document")[0] == []  # the other filters still apply
    ada.post(f"/media/{lecture}/trash", {"unlink": "1"})
    assert found(ada, "dijkstra")[0] == ["graphs 00001.mp4"]


@pytest.mark.both_databases
def test_other_users_captions_find_nothing_and_an_admin_finds_everyones(ada, ben, admin):
    lecture = make_files("ada@example.com", 1, kind="video", prefix="graphs")[0]
    make_files("ben@example.com", 1, kind="video", prefix="ben")
    add_captions(ada, lecture)
    assert found(ben, "dijkstra")[0] == []
    assert found(admin, "dijkstra")[0] == ["graphs 00000.mp4"]
    # the picker searches the same way, within its owner's library
    assert "graphs 00000.mp4" not in ben.get("/media/grid?q=dijkstra&view=list", htmx=True).get_data(as_text=True)


def test_captions_removed_or_replaced_are_no_longer_found(ada):
    lecture = make_files("ada@example.com", 1, kind="video", prefix="graphs")[0]
    add_captions(ada, lecture)
    add_captions(ada, lecture, data=b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nBellman-Ford instead.\n")
    assert found(ada, "dijkstra")[0] == []
    assert found(ada, "bellman")[0] == ["graphs 00000.mp4"]
    caption = db.session.scalar(sa.select(Caption))
    ada.post(f"/media/{lecture}/captions/{caption.id}/remove")
    assert found(ada, "bellman")[0] == []


def test_a_library_without_captions_searches_with_no_extra_query(app, ada):
    make_files("ada@example.com", 3, kind="video", prefix="graphs")
    statements = []

    def note(connection, cursor, statement, *rest):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert len(found(ada, "graphs")[0]) == 3
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    # The user's row says whether they have captions (an EXISTS read with it); nothing else asks.
    assert not [statement for statement in statements
                if "captions" in statement and "JOIN user_sessions" not in statement]
