"""Logging in through the form, logging out for good, and what the server's answers say about it."""
import pytest
import re
import urllib.request

from playwright.sync_api import expect

from page_actions import INSTRUCTOR, PASSWORD


def test_instructor_logs_in_through_the_form_and_lands_on_the_library(page, live_server):
    page.goto("/media")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2Fmedia")
    expect(page.get_by_text("Please log in to see your media library.")).to_be_visible()

    page.get_by_label("Email").fill(INSTRUCTOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{live_server.url}/media")
    expect(page.get_by_role("heading", name="Media library")).to_be_visible()
    expect(page.get_by_text("Ada Instructor")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


@pytest.mark.console_errors(r"status of 422")  # the refused form comes back as 422
def test_a_wrong_password_keeps_the_instructor_on_the_login_form(page):
    page.goto("/login")

    page.get_by_label("Email").fill(INSTRUCTOR)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_logging_out_ends_the_session_for_every_copy_of_its_cookies(page, browser, live_server):
    page.goto("/login")
    page.get_by_label("Email").fill(INSTRUCTOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Remember me on this computer").check()
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Media library")).to_be_visible()
    copied = page.context.cookies()
    assert {cookie["name"] for cookie in copied} >= {"session", "remember_token"}
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()

    thief = browser.new_context(base_url=live_server.url)
    thief.add_cookies(copied)
    stolen = thief.new_page()
    stolen.goto("/media")
    expect(stolen).to_have_url(re.compile(r"/login\?next="))
    thief.close()


def test_the_server_names_no_software_and_keeps_signed_in_pages_out_of_caches(page, live_server):
    with urllib.request.urlopen(f"{live_server.url}/login", timeout=10) as answer:
        assert answer.headers.get("Server") is None
        assert "connect-src 'self' ws://" in answer.headers["Content-Security-Policy"]
    page.goto("/login")
    page.get_by_label("Email").fill(INSTRUCTOR)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(re.compile(r"/media$")) as library:
        page.get_by_role("button", name="Log in").click()
    assert library.value.headers["cache-control"] == "no-store"
    assert "server" not in library.value.headers
