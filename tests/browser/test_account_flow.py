"""The account page: make an API token (shown once), see it listed, revoke it; where you are signed in."""
import re

import requests
from playwright.sync_api import expect

from page_actions import PASSWORD, log_in, screenshot


def test_make_a_token_use_it_from_a_script_and_revoke_it(page, live_server):
    log_in(page, live_server.create_instructor(name="Token Owner"))
    page.get_by_role("link", name=re.compile(r"your account$")).click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.get_by_label("Token name").fill("Lecture uploader")
    page.get_by_label("Your password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("Your new token").input_value()
    assert secret.startswith("mm_")
    expect(page.get_by_text("it is shown this once")).to_be_visible()
    expect(page.get_by_role("cell", name="Lecture uploader", exact=True)).to_be_visible()
    expect(page.get_by_text("This browser")).to_be_visible()
    screenshot(page, "account-token-made")

    script = requests.get(f"{live_server.url}/media/grid", headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert script.status_code == 200 and "Your library is empty" in script.text

    page.reload()
    expect(page.get_by_label("Your new token")).to_have_count(0)  # never shown again
    page.get_by_role("button", name="Revoke Lecture uploader").click()
    expect(page.get_by_text("Token “Lecture uploader” revoked")).to_be_visible()
    refused = requests.get(f"{live_server.url}/media/grid", headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert refused.status_code == 401
