"""Finding and scanning (issue 13 §3), in Chromium on a laptop and on a phone: a search by a word of a
description says where it matched, the Category and Added filters combine with it and live in the
URL (Back undoes them), and the list view's column headers sort."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from factories import make_files
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile, search_text_of
from mediamgr.timeutil import utcnow
from page_actions import log_in, screenshot

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def console_errors(page):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def settled(page):
    """htmx wires swapped-in content when it settles (20 ms later): a click before that does nothing."""
    expect(page.locator(".htmx-added, .htmx-settling, .htmx-request")).to_have_count(0)


def fits(page):
    width = page.viewport_size["width"]
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"the page is {wide} px wide on a {width} px screen"


def describe(media_id, description="", category="", days_old=0):
    media = db.session.get(MediaFile, media_id)
    media.description, media.category = description, category
    media.search_text = search_text_of(media.name, media.tag_names, category, description)
    media.created_at = utcnow() - timedelta(days=days_old)
    db.session.commit()


@pytest.fixture
def library(page, live_server):
    """A new instructor's library: lectures with descriptions and categories, one of them a year old."""
    email = live_server.create_instructor(name="Finding Owner")
    with live_server.app.app_context():
        lecture, slides, old, quiz, hostile = make_files(email, 5, prefix="week")
        describe(lecture, "We derive Dijkstra's shortest paths on the whiteboard.", "Lectures")
        describe(slides, "Slides for the Dijkstra lecture.", "Readings")
        describe(old, "Last year's Dijkstra recording.", "Lectures", days_old=400)
        describe(quiz, "", "Assessments")
        describe(hostile, '<script>document.title="owned"</script> pseudocode', "")
        db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_([lecture, slides, old, quiz, hostile]))
                           .values(size_bytes=sa.case({lecture: 5000, slides: 300, old: 90_000, quiz: 70, hostile: 10},
                                                      value=MediaFile.id)))
        db.session.commit()
        db.session.remove()
    log_in(page, email)
    return page


@pytest.mark.parametrize("size", SIZES)
def test_a_word_of_a_description_finds_the_lecture_and_filters_combine_in_the_url(library, size):
    page = library
    problems = console_errors(page)
    page.set_viewport_size(SIZES[size])
    cards = page.locator(".media-card")
    expect(cards).to_have_count(5)
    page.get_by_label("Search media").fill("dijkstra")
    expect(cards).to_have_count(3)
    expect(page).to_have_url(re.compile(r"\?q=dijkstra$"))
    reason = cards.first.locator(".match-reason")
    expect(reason).to_contain_text("Matched in description:")
    expect(reason.locator("mark")).to_have_text(re.compile("dijkstra", re.I))
    fits(page)
    settled(page)

    if size == "phone":  # the filter controls may sit behind a disclosure there; the search is the phone's path
        assert not problems, problems
        screenshot(page, f"finding-search-{size}")
        return
    page.get_by_label("Category").select_option("Lectures")
    expect(cards).to_have_count(2)
    expect(page).to_have_url(re.compile(r"q=dijkstra.*category=Lectures|category=Lectures.*q=dijkstra"))
    settled(page)
    page.get_by_label("Added", exact=True).select_option(label="This month")
    expect(cards).to_have_count(1)
    expect(page.locator(".results-summary")).to_contain_text("added this month")
    settled(page)
    page.get_by_label("Added", exact=True).select_option(label="Custom range…")
    start = (utcnow() - timedelta(days=500)).date().isoformat()
    end = (utcnow() - timedelta(days=300)).date().isoformat()
    page.get_by_label("From", exact=True).fill(start)
    settled(page)
    page.get_by_label("To", exact=True).fill(end)
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("week 00002")
    expect(page).to_have_url(re.compile(rf"added={start}\.\.{end}"))
    settled(page)
    page.go_back()  # the filter before the last date: from the start date on
    expect(page.get_by_label("To", exact=True)).to_have_value("")
    expect(page.get_by_label("From", exact=True)).to_have_value(start)
    page.go_back()
    page.go_back()
    expect(page.get_by_label("Added", exact=True)).to_have_value("month")
    expect(page.get_by_label("Category")).to_have_value("Lectures")
    expect(page.get_by_label("Search media")).to_have_value("dijkstra")
    expect(cards).to_have_count(1)
    fits(page)
    assert not problems, problems
    screenshot(page, f"finding-filters-{size}")


def test_a_description_with_markup_is_shown_as_text(library):
    page = library
    problems = console_errors(page)
    page.get_by_label("Search media").fill("pseudocode")
    reason = page.locator(".media-card .match-reason")
    expect(reason).to_have_text('Matched in description: <script>document.title="owned"</script> pseudocode')
    assert "owned" not in page.title()
    assert not problems, problems


@pytest.mark.parametrize("size", SIZES)
def test_list_view_column_headers_sort_and_reverse(library, size):
    page = library
    problems = console_errors(page)
    page.set_viewport_size(SIZES[size])
    page.goto("/media?view=list")
    header = page.get_by_role("columnheader", name="Size")
    expect(header).to_be_visible()
    expect(page.locator(".media-card .card-name").first).to_be_visible()
    fits(page)
    header.get_by_role("link").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"sort=largest"))
    names = page.locator(".media-card .card-name")
    expect(names.first).to_have_text("week 00002.pdf")
    settled(page)
    expect(page.get_by_role("columnheader", name="Size").get_by_role("link")).to_be_focused()
    page.keyboard.press("Enter")  # again: the reverse
    expect(page.get_by_role("columnheader", name="Size")).to_have_attribute("aria-sort", "ascending")
    expect(names.first).to_have_text("week 00004.pdf")
    expect(page.locator("[aria-sort]")).to_have_count(1)
    if size == "desktop":
        expect(page.locator("#filters select[name=sort]")).to_have_value("smallest")  # the form's Sort follows the header
        settled(page)
        page.get_by_role("columnheader", name="Name").get_by_role("link").click()
        expect(page.get_by_role("columnheader", name="Name")).to_have_attribute("aria-sort", "ascending")
        expect(names.first).to_have_text("week 00000.pdf")
    fits(page)
    assert not problems, problems
    screenshot(page, f"finding-list-{size}")  # after the check: Playwright's screenshot styles break the CSP
