"""Choosing files in the library (issue 13 §3): the Select button's selection mode, in which a click or
a tap ticks a card instead of opening it; a rectangle dragged with the mouse over the grid; a card's
box that shows while the card has keyboard focus."""
import re

import pytest
from playwright.sync_api import expect

from factories import make_files
from mediamgr.extensions import db
from page_actions import cards, log_in, screenshot, script_held, settled

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def library(page, live_server):
    email = live_server.create_instructor(name="Choosing Owner")
    with live_server.app.app_context():
        make_files(email, 12, prefix="handout")
        db.session.remove()
    log_in(page, email)
    expect(page.locator(".results-summary")).to_contain_text("12 files")
    return page


def selected_count(page):
    return page.get_by_role("form", name="Selected files").locator("#bulk-count")


@pytest.mark.parametrize("size", SIZES)
def test_selection_mode_ticks_cards_instead_of_opening_them(library, size):
    page = library
    page.set_viewport_size(SIZES[size])
    settled(page)
    address = page.url
    select = page.get_by_role("button", name="Select", exact=True)
    select.click()
    expect(select).to_have_attribute("aria-pressed", "true")
    expect(cards(page).first.locator("input.select-box")).to_have_css("opacity", "1")
    cards(page).nth(0).locator(".card-link").click()
    cards(page).nth(2).locator(".card-name").click()
    expect(selected_count(page)).to_have_text("2 selected")
    expect(page.locator(".media-card.is-selected")).to_have_count(2)
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert page.url == address
    cards(page).nth(5).locator(".card-link").click(modifiers=["Shift"])  # a range, as with the boxes
    expect(selected_count(page)).to_have_text("5 selected")
    cards(page).nth(0).locator(".card-link").click()  # again: unticked
    expect(selected_count(page)).to_have_text("4 selected")
    screenshot(page, f"selection-mode-{size}")

    page.keyboard.press("Escape")
    expect(select).to_have_attribute("aria-pressed", "false")
    expect(page.locator(".media-card.is-selected")).to_have_count(0)
    cards(page).nth(1).locator(".card-link").click()  # out of selection mode a click opens the file
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/media/\d+$"))


def test_dragging_a_rectangle_over_the_grid_selects_the_cards_it_touches(library):
    page = library
    page.set_viewport_size(SIZES["desktop"])
    settled(page)
    first, third, fifth = (cards(page).nth(n).bounding_box() for n in (0, 2, 4))
    assert round(third["y"]) == round(first["y"]) and fifth["y"] == first["y"], "a row of five on a laptop"
    # From the background just above the grid, across the first three cards of the first row.
    page.mouse.move(first["x"] + 10, first["y"] - 4)
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(first["x"] + 10 + step * (third["x"] + 20 - first["x"]) / 5, first["y"] - 4 + step * first["height"] / 10)
    expect(page.locator("#rubber-band")).to_be_visible()
    page.mouse.up()
    expect(page.locator("#rubber-band")).to_be_hidden()
    expect(selected_count(page)).to_have_text("3 selected")
    assert [cards(page).nth(n).evaluate("card => card.classList.contains('is-selected')") for n in range(5)] == \
        [True, True, True, False, False]
    expect(page.get_by_role("dialog")).to_have_count(0)

    # The bar floats: showing it moved no card. With Shift, a second rectangle adds to the selection.
    assert cards(page).nth(4).bounding_box() == fifth
    page.keyboard.down("Shift")
    page.mouse.move(fifth["x"] + fifth["width"] - 10, first["y"] - 4)
    page.mouse.down()
    page.mouse.move(fifth["x"] + fifth["width"] / 2, first["y"] + 20, steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")
    expect(selected_count(page)).to_have_text("4 selected")
    page.get_by_role("button", name="Clear selection").click()
    expect(page.locator(".media-card.is-selected")).to_have_count(0)


def test_a_card_with_keyboard_focus_shows_its_box(library):
    page = library
    box = cards(page).first.locator("input.select-box")
    expect(box).to_have_css("opacity", "0")
    cards(page).first.locator(".card-link").focus()
    expect(box).to_have_css("opacity", "1")
    page.keyboard.press("Shift+Tab")  # the box comes before the link
    expect(box).to_be_focused()
    page.keyboard.press("Space")
    expect(selected_count(page)).to_have_text("1 selected")


def test_a_box_ticked_before_the_page_script_ran_counts(library):
    """On a slow connection the page shows before its scripts have run, and the browser restores ticked
    boxes after Back: a box already ticked when the selection script starts is part of the selection."""
    page = library
    release = script_held(page, "selection.js", "/media")
    expect(cards(page)).to_have_count(12)
    cards(page).nth(3).locator("input.select-box").check()
    release()
    expect(selected_count(page)).to_have_text("1 selected")
    expect(page.locator(".media-card.is-selected")).to_have_count(1)
