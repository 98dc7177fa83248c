"""Logging in through the form."""
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


def test_a_wrong_password_keeps_the_instructor_on_the_login_form(page):
    page.goto("/login")

    page.get_by_label("Email").fill(INSTRUCTOR)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
