"""Browsing the library: grid and list, search, type and tag filters, sorts, keyset pages, empty states."""
import re

import pytest

from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.library.queries import PAGE_SIZE



def ids_in(html):
    return [int(found) for found in re.findall(r'data-media-id="(\d+)"', html)]


@pytest.fixture
def library(ada, worker, samples):
    uploads = [("Intro lecture.webm", samples.video_bytes(seconds=1, black_seconds=0)),
               ("campus photo.jpg", samples.jpeg_bytes(400, 300)),
               ("Syllabus.pdf", samples.pdf_bytes()),
               ("theme song.wav", samples.wav_bytes(2.0))]
    for name, content in uploads:
        assert ada.upload(name, content).status_code == 201
    worker()
    ada.post(f"/media/{media_named('campus photo.jpg').id}/tags", {"tags": "Week 1, campus"})
    return ada


def media_named(name):
    return db.session.scalars(db.select(MediaFile).where(MediaFile.name == name)).one()


def test_library_page_shows_every_file_with_its_details(library):
    html = library.get("/media").get_data(as_text=True)
    assert len(ids_in(html)) == 4
    for text in ("Intro lecture.webm", "Syllabus.pdf", 'data-status="ready"', "4 files", 'aria-label="Search media"',
                 "week 1", "0:01"):
        assert text in html
    assert 'class="status-badge' not in html  # ready is the normal case: only a state that needs attention has a badge


@pytest.mark.both_databases  # search, filters and keyset paging are SQL the dialects differ in
def test_search_matches_names_and_tags_case_insensitively(library):
    by_name = library.get("/media/grid?q=SYLLABUS", htmx=True)
    by_tag = library.get("/media/grid?q=campus", htmx=True)
    assert ids_in(by_name.get_data(as_text=True)) == [media_named("Syllabus.pdf").id]
    assert ids_in(by_tag.get_data(as_text=True)) == [media_named("campus photo.jpg").id]
    assert by_name.headers["HX-Push-Url"] == "/media?q=SYLLABUS"


@pytest.mark.both_databases  # search, filters and keyset paging are SQL the dialects differ in
def test_type_filter_and_tag_filter(library):
    videos = ids_in(library.get("/media/grid?type=video", htmx=True).get_data(as_text=True))
    tagged = ids_in(library.get("/media/grid?tag=Week%201", htmx=True).get_data(as_text=True))
    assert videos == [media_named("Intro lecture.webm").id]
    assert tagged == [media_named("campus photo.jpg").id]


@pytest.mark.both_databases  # search, filters and keyset paging are SQL the dialects differ in
def test_sorts(library):
    def names(sort):
        html = library.get(f"/media/grid?sort={sort}", htmx=True).get_data(as_text=True)
        return [db.session.get(MediaFile, media_id).name for media_id in ids_in(html)]

    assert names("name") == ["campus photo.jpg", "Intro lecture.webm", "Syllabus.pdf", "theme song.wav"]
    assert names("oldest") == list(reversed(names("newest")))
    sizes = [media_named(name).size_bytes for name in names("largest")]
    assert sizes == sorted(sizes, reverse=True)
    assert names("smallest") == list(reversed(names("largest")))


def test_list_view_renders_the_same_items(library):
    grid = ids_in(library.get("/media/grid", htmx=True).get_data(as_text=True))
    listing = library.get("/media/grid?view=list", htmx=True).get_data(as_text=True)
    assert "view-list" in listing and ids_in(listing) == grid


def test_filter_state_in_the_url_renders_the_full_page_without_javascript(library):
    html = library.get("/media?type=document&sort=name").get_data(as_text=True)
    assert "<html" in html and ids_in(html) == [media_named("Syllabus.pdf").id]
    assert '<option value="document" selected>' in html


@pytest.mark.both_databases  # search, filters and keyset paging are SQL the dialects differ in
def test_keyset_pages_cover_everything_once(ada, app):
    owner_id = db.session.scalar(db.text("SELECT id FROM users WHERE email = 'ada@example.com'"))
    for number in range(PAGE_SIZE * 2 + 5):
        db.session.add(MediaFile(owner_id=owner_id, name=f"file {number:03}.png", name_key=f"file {number:03}.png",
                                 original_name="x.png", kind="image", mime_type="image/png", size_bytes=number % 7,
                                 sha256="0" * 64, storage_key=f"k{number}", status="ready"))
    db.session.commit()
    for sort in ("newest", "name", "largest"):
        seen, url = [], f"/media/grid?sort={sort}"
        while url:
            html = ada.get(url, htmx=True).get_data(as_text=True)
            seen += ids_in(html)
            cursor = re.search(r'hx-get="(/media/grid\?[^"]*cursor=[^"]+)"', html)
            url = cursor.group(1).replace("&amp;", "&") if cursor else None
        assert len(seen) == len(set(seen)) == PAGE_SIZE * 2 + 5, sort


def test_empty_library_and_no_match_have_helpful_empty_states(ada):
    assert "Your library is empty." in ada.get("/media").get_data(as_text=True)
    assert "No files match these filters." in ada.get("/media?q=nothing-here").get_data(as_text=True)


@pytest.mark.parametrize("query", ["type=spreadsheet", "sort=random", "view=3d", "cursor=%%%garbage",
                                   "cursor=WzEsMl0", "q=" + "x" * 5000, "tag=%00%01", "unknown=1&page=-4",
                                   "type=video&type=image", "q=%F0%9F%8E%A5"])
@pytest.mark.both_databases  # search, filters and keyset paging are SQL the dialects differ in
def test_unknown_or_malformed_query_parameters_never_fail(ada, query):
    for url in (f"/media?{query}", f"/media/grid?{query}", f"/media/trash?{query}"):
        response = ada.get(url, htmx="grid" in url)
        assert response.status_code == 200, (url, response.status_code)


def test_tag_suggestions_are_the_users_own(library, ben, worker, samples):
    ben.upload("b.png", samples.png_bytes())
    worker()
    ben_media = db.session.scalars(db.select(MediaFile).where(MediaFile.name == "b.png")).one()
    ben.post(f"/media/{ben_media.id}/tags", {"tags": "secret ben tag"})
    suggestions = library.get("/tags/suggest?q=", htmx=True).get_data(as_text=True)
    assert "week 1" in suggestions and "secret ben tag" not in suggestions


@pytest.mark.both_databases  # search, filters and keyset paging are SQL the dialects differ in
def test_search_follows_renames_tags_and_deletes(library):
    photo = media_named("campus photo.jpg")
    library.post(f"/media/{photo.id}/rename", {"name": "quadrangle"})
    library.post(f"/media/{photo.id}/tags", {"tags": "architecture"})
    assert ids_in(library.get("/media/grid?q=quadrangle", htmx=True).get_data(as_text=True)) == [photo.id]
    assert ids_in(library.get("/media/grid?q=architect", htmx=True).get_data(as_text=True)) == [photo.id]
    assert ids_in(library.get("/media/grid?q=campus+photo", htmx=True).get_data(as_text=True)) == []
    library.post(f"/media/{photo.id}/trash")
    library.post(f"/media/{photo.id}/delete")
    assert ids_in(library.get("/media/grid?q=quadrangle", htmx=True).get_data(as_text=True)) == []
