"""Finding files: search over descriptions and categories (and the card saying why it matched), the
Category, Added and Owner filters, and the list view's sortable columns."""
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from mediamgr.auth.models import User
from mediamgr.extensions import db
from mediamgr.library.matching import match_reason
from mediamgr.library.models import MediaFile
from mediamgr.library.queries import PAGE_SIZE, SORTS, LibraryFilter, added_days
from mediamgr.timeutil import utcnow

from factories import make_files


def ids_in(html):
    return [int(found) for found in re.findall(r'data-media-id="(\d+)"', html)]


def user_id(email):
    return db.session.scalar(sa.select(User.id).where(User.email == email))


def next_page(html):
    found = re.search(r'hx-get="(/media/grid\?[^"]*cursor=[^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def described(ada):
    """Three of Ada's files: one with a description, one with a category, one with neither."""
    lecture, quiz, plain = make_files("ada@example.com", 3, prefix="week")
    assert ada.post(f"/media/{lecture}/details", {"description": "We derive Dijkstra's shortest paths\nstep by step.",
                                                  "category": ""}).status_code == 200
    assert ada.post(f"/media/{quiz}/details", {"description": "", "category": "Assessments"}).status_code == 200
    return SimpleNamespace(lecture=lecture, quiz=quiz, plain=plain)


@pytest.mark.both_databases  # search is SQL the dialects differ in (FTS5 trigrams, pg_trgm)
def test_search_matches_the_description_and_the_category_and_says_so(ada, described):
    by_description = ada.get("/media/grid?q=DIJKSTRA", htmx=True).get_data(as_text=True)
    by_category = ada.get("/media/grid?q=assess", htmx=True).get_data(as_text=True)
    by_name = ada.get("/media/grid?q=week", htmx=True).get_data(as_text=True)
    assert ids_in(by_description) == [described.lecture]
    assert "Matched in description: We derive <mark>Dijkstra</mark>&#39;s shortest paths step by step." in by_description
    assert ids_in(by_category) == [described.quiz] and "Matched category: <mark>Assess</mark>ments" in by_category
    assert len(ids_in(by_name)) == 3 and "Matched" not in by_name


@pytest.mark.both_databases
def test_a_rare_description_word_is_found_through_the_index_and_follows_edits(ada, described):
    make_files("ada@example.com", 30, prefix="filler")
    assert ids_in(ada.get("/media/grid?q=derive+step", htmx=True).get_data(as_text=True)) == [described.lecture]
    ada.post(f"/media/{described.lecture}/details", {"description": "Now about heaps.", "category": "Lectures"})
    assert ids_in(ada.get("/media/grid?q=dijkstra", htmx=True).get_data(as_text=True)) == []
    assert ids_in(ada.get("/media/grid?q=heaps", htmx=True).get_data(as_text=True)) == [described.lecture]
    assert ids_in(ada.get("/media/grid?q=lectures", htmx=True).get_data(as_text=True)) == [described.lecture]


def test_a_description_is_shown_as_text_never_as_markup(ada):
    media_id, = make_files("ada@example.com", 1)
    ada.post(f"/media/{media_id}/details", {"description": '<script>alert("x")</script> pseudocode <b>bold</b>', "category": ""})
    html = ada.get("/media/grid?q=pseudocode", htmx=True).get_data(as_text=True)
    assert ids_in(html) == [media_id]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; <mark>pseudocode</mark> &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>alert" not in html and "<b>bold" not in html


def test_the_reason_names_a_tag_and_cuts_a_long_description_around_the_word():
    media = SimpleNamespace(name="Week 3.mp4", tag_names=["exam prep"], category="",
                            description=" ".join(f"word{n}" for n in range(40)) + " needle " + "tail " * 30)
    assert match_reason(media, "week") is None
    assert match_reason(media, "week prep").where == "tag"
    reason = match_reason(media, "NEEDLE")
    assert reason.where == "description" and reason.hit == "needle"
    assert reason.before.startswith("…") and len(reason.before) <= 41 and reason.before.endswith("word39 ")
    assert reason.after.endswith("…") and len(reason.after) <= 61


@pytest.mark.both_databases  # the migration rebuilds search text with SQL of each dialect
def test_the_migration_makes_existing_descriptions_and_categories_searchable(app, ada):
    described, plain = make_files("ada@example.com", 2)
    downgrade(revision="0016_cleanup_runs")
    db.session.execute(sa.update(MediaFile).where(MediaFile.id == described)
                       .values(description="Old notes about Élan", category="Readings"))
    db.session.commit()
    upgrade()
    db.session.expire_all()
    assert db.session.get(MediaFile, described).search_text.endswith(" readings old notes about élan")
    assert ids_in(ada.get("/media/grid?q=%C3%A9lan", htmx=True).get_data(as_text=True)) == [described]
    assert ids_in(ada.get("/media/grid?q=readings", htmx=True).get_data(as_text=True)) == [described]


@pytest.mark.both_databases
def test_category_filter_lists_the_users_categories_and_combines_with_search(ada, ben, described):
    bens, = make_files("ben@example.com", 1)
    ben.post(f"/media/{bens}/details", {"description": "", "category": "Ben's secret category"})
    page = ada.get("/media").get_data(as_text=True)
    assert '<option value="Assessments" >Assessments</option>' in page and "secret category" not in page
    assert ids_in(ada.get("/media/grid?category=Assessments", htmx=True).get_data(as_text=True)) == [described.quiz]
    assert ids_in(ada.get("/media/grid?category=Assessments&q=dijkstra", htmx=True).get_data(as_text=True)) == []
    assert ids_in(ada.get("/media/grid?category=Ben%27s+secret+category", htmx=True).get_data(as_text=True)) == []
    answer = ada.get("/media/grid?category=Assessments", htmx=True)
    assert answer.headers["HX-Push-Url"] == "/media?category=Assessments"
    assert "in category “Assessments”" in answer.get_data(as_text=True)


def _age(media_id, days):
    db.session.execute(sa.update(MediaFile).where(MediaFile.id == media_id)
                       .values(created_at=utcnow() - timedelta(days=days)))
    db.session.commit()


@pytest.mark.both_databases
def test_added_filter_presets_and_a_range_from_the_two_dates(ada):
    today = utcnow().date()
    new, old, older = make_files("ada@example.com", 3)
    _age(old, 40)  # before the 1st of this month, whatever today is
    _age(older, 400)

    def found(query):
        return sorted(ids_in(ada.get(f"/media/grid?{query}", htmx=True).get_data(as_text=True)))

    assert found("added=week") == [new] and found("added=month") == [new]
    first = (today - timedelta(days=500)).isoformat()
    last = (today - timedelta(days=300)).isoformat()
    assert found(f"added=range&added_from={first}&added_to={last}") == [older]
    assert found(f"added_from={last}&added_to={first}") == [older]  # either order
    answer = ada.get(f"/media/grid?added=range&added_from={first}&added_to={last}", htmx=True)
    assert answer.headers["HX-Push-Url"] == f"/media?added={first}..{last}"
    page = ada.get(f"/media?added={first}..{last}").get_data(as_text=True)
    assert '<option value="range" selected>Custom range…</option>' in page and f'value="{first}"' in page
    assert found("added=week&added_from=2001-01-01") == [new]  # a preset wins over stale dates
    assert added_days("week", date(2026, 12, 3)) == (date(2026, 11, 30), None)
    assert added_days("month", date(2026, 12, 3)) == (date(2026, 12, 1), None)


@pytest.mark.parametrize("query", ["added=yesterday", "added_from=2026-02-30", "added_to=9999-12-31",
                                   "added=..9999-12-31", "added_from=0001-01-01&added_to=0001-01-01",
                                   "category=" + "x" * 5000, "category=%00", "owner=abc", "owner=99999999999",
                                   "sort=longest&cursor=WzFlOTk5LDFd", "sort=shortest&cursor=WyJ4IiwxXQ",
                                   "sort=type&cursor=WzEsMV0"])
@pytest.mark.both_databases
def test_bad_filter_values_fall_back_to_defaults(ada, query):
    make_files("ada@example.com", 2)
    for url in (f"/media?{query}", f"/media/grid?{query}"):
        response = ada.get(url, htmx="grid" in url)
        assert response.status_code == 200, (url, response.status_code)


@pytest.mark.both_databases
def test_owner_filter_is_an_admins_and_an_instructor_sees_nothing_of_others(admin, ada, ben):
    adas = make_files("ada@example.com", 2)
    bens = make_files("ben@example.com", 1)
    ben_id = user_id("ben@example.com")
    assert ids_in(admin.get(f"/media/grid?owner={ben_id}", htmx=True).get_data(as_text=True)) == bens
    assert f'<option value="{ben_id}" selected>Ben</option>' in admin.get(f"/media?owner={ben_id}").get_data(as_text=True)
    assert ids_in(ada.get(f"/media/grid?owner={ben_id}", htmx=True).get_data(as_text=True)) == []
    assert ids_in(ada.get(f"/media/grid?owner={user_id('ada@example.com')}", htmx=True).get_data(as_text=True)) == adas[::-1]
    assert 'name="owner"' not in ada.get("/media").get_data(as_text=True).replace('type="hidden" name="owner"', "")


@pytest.mark.both_databases  # keyset paging is SQL the dialects differ in
def test_every_column_sort_pages_through_everything_once(ada):
    ids = make_files("ada@example.com", PAGE_SIZE + 7, kind="video")
    make_files("ada@example.com", 6, kind="image")  # no duration: sorts as 0 seconds
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids))
                       .values(duration_seconds=sa.case({media_id: 10.5 + (n % 9) / 3 for n, media_id in enumerate(ids)},
                                                        value=MediaFile.id)))
    db.session.commit()
    for sort in SORTS:
        seen, url = [], f"/media/grid?sort={sort}"
        while url:
            html = ada.get(url, htmx=True).get_data(as_text=True)
            seen += ids_in(html)
            url = next_page(html)
        assert len(seen) == len(set(seen)) == PAGE_SIZE + 13, sort
    longest = ids_in(ada.get("/media/grid?sort=longest", htmx=True).get_data(as_text=True))
    durations = [db.session.get(MediaFile, media_id).duration_seconds or 0 for media_id in longest]
    assert durations == sorted(durations, reverse=True)


def test_list_view_headers_sort_and_say_how(ada):
    make_files("ada@example.com", 2)
    html = ada.get("/media?view=list&sort=name").get_data(as_text=True)
    name = re.search(r'<span role="columnheader" class="col-name" aria-sort="ascending">\s*<a href="([^"]+)"', html)
    assert name and name.group(1).replace("&amp;", "&") == "/media?sort=name_desc&view=list"
    assert html.count("aria-sort=") == 1
    assert 'data-sort="largest"' in html and 'data-sort="newest"' in html
    reversed_html = ada.get("/media/grid?view=list&sort=name_desc", htmx=True).get_data(as_text=True)
    assert 'class="col-name" aria-sort="descending"' in reversed_html and 'data-sort="name"' in reversed_html
    assert "list-columns" not in ada.get("/media/grid?view=grid", htmx=True).get_data(as_text=True)


def test_load_more_keeps_every_filter(ada):
    ids = make_files("ada@example.com", PAGE_SIZE + 3)
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids)).values(category="Lectures"))
    db.session.commit()
    flt = "category=Lectures&added=week&sort=name_desc&view=list"
    url = next_page(ada.get(f"/media/grid?{flt}", htmx=True).get_data(as_text=True))
    args = LibraryFilter.from_args(dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&")))
    assert (args.category, args.added, args.sort, args.view) == ("Lectures", "week", "name_desc", "list")
    assert len(ids_in(ada.get(url, htmx=True).get_data(as_text=True))) == 3


def test_the_course_picker_has_the_category_and_added_filters_and_its_pages_keep_them(ada):
    ids = make_files("ada@example.com", 30, prefix="talk")
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids[:26])).values(category="Talks"))
    db.session.commit()
    answer = ada.post("/courses", {"title": "Algorithms"})
    course_id = int(re.search(r"/courses/(\d+)/edit", answer.headers["HX-Redirect"]).group(1))
    ada.post(f"/courses/{course_id}/chapters", {"title": "Week 1"})
    chapter = db.session.scalar(sa.text("SELECT id FROM chapters WHERE course_id = :id"), {"id": course_id})
    dialog = ada.get(f"/chapters/{chapter}/picker?type=", htmx=True).get_data(as_text=True)
    assert '<option value="Talks" >Talks</option>' in dialog and 'name="added_from"' in dialog
    results = ada.get(f"/chapters/{chapter}/picker/results?type=&category=Talks&added=week", htmx=True).get_data(as_text=True)
    more = re.search(r'hx-get="([^"]*cursor=[^"]+)"', results).group(1).replace("&amp;", "&")
    assert "category=Talks" in more and "added=week" in more
    rest = ada.get(more, htmx=True).get_data(as_text=True)
    assert len(re.findall(r'class="picker-item[^"]*" data-media-id', results + rest)) == 26


@pytest.mark.both_databases  # each database chooses differently between its index and a scan
@pytest.mark.parametrize("word, matching", [("errata", 3), ("errata", 12), ("errata", 40)])
def test_every_way_a_search_can_go_finds_and_counts_the_same_files(ada, ben, monkeypatch, word, matching):
    """Rare, middling and common words (thresholds made small): through the index for page and count,
    the index for the count only, or scans; with a second word that is common, and with Ben's
    matching files beside Ada's. Each way pages through exactly the matching files and counts them."""
    from mediamgr.library import search

    monkeypatch.setattr(search, "PAGE_INDEX_HITS", 5)
    monkeypatch.setattr(search, "COUNT_INDEX_HITS", 20)
    hits = make_files("ada@example.com", matching, prefix="notes")
    make_files("ada@example.com", 30, prefix="notes other")
    make_files("ben@example.com", 10, prefix="notes ben")
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(hits)).values(description=f"See the {word} sheet."))
    for media in db.session.scalars(sa.select(MediaFile)):
        media.refresh_search_text()
    db.session.commit()
    for q in (word, f"{word} notes", f"notes {word[:4]}"):
        found, url = [], f"/media/grid?q={q.replace(' ', '+')}"
        first = ada.get(url, htmx=True).get_data(as_text=True)
        assert f"{matching} file" in first, (q, re.search(r'results-summary[^>]*>([^<]*)', first).group(1))
        html = first
        while True:
            found += ids_in(html)
            url = next_page(html)
            if not url:
                break
            html = ada.get(url, htmx=True).get_data(as_text=True)
        assert sorted(found) == sorted(hits), q
