"""/analytics: every figure against a library seeded with known sizes, ages, versions, trash,
duplicates and orphans of both kinds; links to the library filtered to the files behind each figure;
who may see what (an instructor their own, an admin everyone's and each user's)."""
import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from mediamgr.auth.models import User
from mediamgr.courses.models import ChapterItem
from mediamgr.extensions import db
from mediamgr.analytics import figures
from mediamgr.library import stats
from mediamgr.library.models import MediaFile, MediaVersion
from mediamgr.timeutil import utcnow

from factories import course_with_chapters, link, make_files

MB = 10**6


def owner(email):
    return db.session.scalar(sa.select(User.id).where(User.email == email))


def set_rows(ids, **values):
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids)).values(**values))
    db.session.commit()


@pytest.fixture
def seeded(ada, ben):
    """Ada: 4 videos (0.5, 1, 20, 2000 MB), 3 images of 999,999 bytes of which two share content,
    one document in the trash, one video linked in a course, one image previously used; a version.
    Ben: 2 documents. Ages: two files added 100 and 400 days ago."""
    now = utcnow()
    videos = make_files("ada@example.com", 4, kind="video", prefix="video")
    for media_id, size in zip(videos, (MB // 2, MB, 20 * MB, 2000 * MB)):
        set_rows([media_id], size_bytes=size)
    images = make_files("ada@example.com", 3, kind="image", prefix="image")
    set_rows(images, size_bytes=999_999)
    twin = db.session.get(MediaFile, images[0])
    set_rows([images[1]], sha256=twin.sha256, storage_key=twin.storage_key)
    (trashed,) = make_files("ada@example.com", 1, trashed=True, prefix="old notes")
    set_rows([trashed], size_bytes=5 * MB)
    _course, (chapter,) = course_with_chapters(ada, "Week 1")
    link(ada, chapter, [videos[0], images[2]])
    item = db.session.scalar(sa.select(ChapterItem.id).where(ChapterItem.media_id == images[2]))
    ada.post(f"/items/{item}/remove")
    set_rows([videos[1]], created_at=now - timedelta(days=100))
    set_rows([videos[2]], created_at=now - timedelta(days=400))
    media = db.session.get(MediaFile, videos[3])
    db.session.add(MediaVersion(media_id=media.id, owner_id=media.owner_id, number=1, status="ready", original_name="v1.mp4",
                                kind="video", mime_type="video/mp4", size_bytes=3 * MB, sha256="e" * 64,
                                storage_key=f"media/{media.owner_id}/old-version", created_at=now))
    db.session.add(MediaVersion(media_id=media.id, owner_id=media.owner_id, number=2, status="ready", original_name=media.name,
                                kind="video", mime_type="video/mp4", size_bytes=media.size_bytes, sha256=media.sha256,
                                storage_key=media.storage_key, created_at=now))
    db.session.commit()
    make_files("ben@example.com", 2)
    return {"videos": videos, "images": images, "trashed": trashed}


@pytest.mark.both_databases
def test_figures_of_a_known_library(seeded):
    stats.fold()
    ada = owner("ada@example.com")
    overview = figures.overview(ada)
    library_bytes = MB // 2 + MB + 20 * MB + 2000 * MB + 3 * 999_999
    assert (overview.library.files, overview.library.bytes) == (7, library_bytes)
    assert (overview.trash.files, overview.trash.bytes) == (1, 5 * MB)
    assert (overview.versions.files, overview.versions.bytes) == (1, 3 * MB)
    # stored: every distinct content once (the two identical images once), the trash and the old version
    assert overview.stored["stored_bytes"] == library_bytes - 999_999 + 5 * MB + 3 * MB
    assert (overview.stored["duplicate_groups"], overview.stored["duplicate_files"],
            overview.stored["duplicate_bytes"]) == (1, 2, 999_999)
    assert overview.saved_bytes == 999_999
    assert dict((kind, (a.files, a.bytes)) for kind, a in figures.by_type(ada)) == {
        "video": (4, MB // 2 + MB + 20 * MB + 2000 * MB), "image": (3, 3 * 999_999)}
    # bucket edges: 999,999 bytes is under 1 MB, 1,000,000 is not
    assert [a.files for a in figures.size_histogram(ada)] == [4, 1, 1, 0, 1]
    never, previous = figures.orphans(ada)
    assert (never.kind, never.total.files) == ("never", 5)  # videos 2-4, images 1-2
    assert (previous.kind, previous.total.files, previous.total.bytes) == ("previous", 1, 999_999)
    assert {days: a.files for days, a in never.older.items()} == {30: 2, 90: 2, 365: 1}
    assert never.older[365].bytes == 20 * MB
    assert [m.size_bytes for m in figures.largest(ada)][:2] == [2000 * MB, 20 * MB]
    weeks = figures.growth(ada)
    assert len(weeks) == figures.GROWTH_WEEKS and weeks[-1].cumulative_bytes == library_bytes + 5 * MB
    assert sum(week.added.files for week in weeks) == 7  # 7 of the library and the trash: the file of 400 days ago is before the chart
    everyone = figures.overview(None)
    assert everyone.library.files == 9


@pytest.mark.both_databases
def test_quota_bar_and_analytics_show_the_same_number(seeded, ada):
    db.session.execute(sa.update(User).where(User.email == "ada@example.com").values(quota_bytes=10**10))
    db.session.commit()
    library_page = ada.get("/media").text
    used = re.search(r"([\d.]+ [kMG]B) of 10.0 GB used", library_page).group(1)
    page = ada.get("/analytics").text
    assert re.search(rf'class="stat-value">{re.escape(used)}<', page)
    assert "% of a 10.0 GB quota" in page


def hrefs(page):
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', page)]


def names_at(browser, url):
    return set(re.findall(r'data-name="([^"]+)"', browser.get(url).text)) or \
        set(re.findall(r'class="media-name"[^>]*>([^<]+)<', browser.get(url).text))


@pytest.mark.both_databases
def test_each_figure_links_to_the_files_behind_it(seeded, ada):
    page = ada.get("/analytics").text
    links = hrefs(page)
    for expected in ("/media?type=video", "/media?size=-1MB", "/media?size=1GB-", "/media?usage=never",
                     "/media?usage=previously", "/media?usage=never&idle=365", "/media?versions=1", "/media/trash",
                     "/media/duplicates"):
        assert any(href == expected for href in links), expected
    assert any(href.startswith("/media?added=") for href in links)
    ids = lambda url: {int(i) for i in re.findall(r'data-media-id="(\d+)"', ada.get(url).text)}  # noqa: E731
    videos, images = seeded["videos"], seeded["images"]
    assert ids("/media?usage=never&idle=365") == {videos[2]}
    assert ids("/media?usage=never&idle=90") == {videos[1], videos[2]}
    assert ids("/media?usage=previously") == {images[2]}
    assert ids("/media?usage=never") == {videos[1], videos[2], videos[3], images[0], images[1]}
    assert ids("/media?size=-1MB") == {videos[0], *images}
    assert ids("/media?size=1MB-10MB") == {videos[1]}
    assert ids("/media?versions=1") == {videos[3]}
    week = (utcnow() - timedelta(days=100)).date()
    assert ids(f"/media?added={week}..{week}") == {videos[1]}
    # a range typed by hand works; nonsense is ignored, not an error
    assert ids("/media?size=10MB-3GB") == {videos[2], videos[3]}
    for nonsense in ("size=abc", "size=5MB-1MB", "added=yesterday", "idle=-4", "versions=2", "owner=x"):
        assert ada.get(f"/media?{nonsense}").status_code == 200


def test_admin_sees_everyone_and_each_user(seeded, admin, ada):
    stats.fold()
    page = admin.get("/analytics").text
    assert "Storage per user" in page and "Ada" in page
    ada_id = owner("ada@example.com")
    one = admin.get(f"/analytics?user={ada_id}").text
    assert "Storage per user" not in one and f"owner={ada_id}" in one
    table = figures.user_table("stored", True)
    assert table.rows[0]["user"].email == "ada@example.com"
    ascending = figures.user_table("name", False)
    assert [row["name"] for row in ascending.rows] == sorted(row["name"] for row in ascending.rows)
    for column in figures.USER_COLUMNS:
        for direction in ("asc", "desc"):
            assert admin.get(f"/analytics?sort={column}&dir={direction}").status_code == 200
    assert admin.get("/analytics?sort=nonsense&page=999999").status_code == 200
    assert admin.get("/analytics?user=999999").status_code == 404
    paged = figures.user_table("files", True, page=2, per_page=1)
    assert paged.page == 2 and paged.pages == paged.total and len(paged.rows) == 1


def test_instructors_see_only_their_own(seeded, ada, ben):
    assert ada.get(f"/analytics?user={owner('ben@example.com')}").status_code == 404
    assert ada.get(f"/analytics?user={owner('ada@example.com')}").status_code == 200
    page = ben.get("/analytics").text
    assert "Storage per user" not in page and "video 00003" not in page
    # an instructor naming another owner in the library sees nothing of theirs
    assert "data-media-id" not in ben.get(f"/media?owner={owner('ada@example.com')}").text


def test_charts_have_text_alternatives_and_no_javascript_is_needed(seeded, ada):
    page = ada.get("/analytics").text
    svgs = re.findall(r"<svg[^>]*>", page)
    assert len(svgs) == 4 and all('role="group"' in svg and "aria-labelledby" in svg for svg in svgs)
    assert page.count("<desc") == 4 and page.count("Show as a table") == 4
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_an_empty_library(ada):
    page = ada.get("/analytics")
    assert page.status_code == 200 and "No files yet" in page.text
    assert page.text.count("Nothing to show yet") == 4 and "<svg" not in page.text  # no empty axes
