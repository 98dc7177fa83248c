"""An admin in the browser: the analytics page's charts and per-user table, then an orphan cleanup
from its dry run to its audit record, with no console error on the way."""
import json
import re
import uuid
from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from factories import make_files
from mediamgr.cli import ensure_user
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.timeutil import utcnow
from helpers import PASSWORD
from page_actions import log_in, screenshot

OLD_FILES = 30


def test_an_admin_reads_analytics_and_cleans_up_orphans(page, live_server):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    owner = live_server.create_instructor(name="Orphan Owner")
    admin = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    with live_server.app.app_context():
        ensure_user(admin, PASSWORD, "Storage Admin", "admin")
        ids = make_files(owner, OLD_FILES, prefix="forgotten")
        make_files(owner, 5, prefix="fresh")
        long_ago = utcnow() - timedelta(days=200)
        db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids)).values(created_at=long_ago, updated_at=long_ago))
        db.session.commit()
        db.session.remove()
    log_in(page, admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Storage analytics")).to_be_visible()
    expect(page.locator("svg[role=group]")).to_have_count(4)
    expect(page.get_by_role("group", name=re.compile("Files by size"))).to_be_visible()
    users = page.get_by_role("table").filter(has_text="Quota used")
    expect(users.get_by_role("link", name="Orphan Owner")).to_be_visible()
    users.get_by_role("link", name=re.compile("Files")).click()  # sort by files
    expect(page).to_have_url(re.compile(r"sort=files"))
    screenshot(page, "admin-analytics")

    page.get_by_role("link", name="Admin", exact=True).click()
    cleanup = page.get_by_role("form", name="Remove orphaned files")
    cleanup.get_by_label("Unused for more than (days)").fill("90")
    cleanup.get_by_label("Only this user’s files (email, optional)").fill(owner)
    cleanup.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("heading", name=re.compile("Dry run: Files of"))).to_be_visible()
    expect(page.locator(".stat-value").first).to_have_text(str(OLD_FILES))
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    page.get_by_role("button", name="Run cleanup").click()
    expect(page.get_by_text("Cleanup started")).to_be_visible()
    expect(page.locator(".audit")).to_contain_text(f"{OLD_FILES} of {OLD_FILES} files", timeout=30_000)
    page.get_by_role("link", name="← Admin").click()
    history = page.get_by_role("table").filter(has_text="Bytes freed")
    expect(history).to_contain_text(f"{OLD_FILES} of {OLD_FILES}")
    expect(history).to_contain_text("Finished")
    screenshot(page, "admin-cleanup-history")
    assert not problems, problems


def test_an_instructor_exports_and_imports_into_a_second_account(page, live_server, tmp_path):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    first = live_server.create_instructor(name="Exporting Instructor")
    second = live_server.create_instructor(name="Importing Instructor")
    with live_server.app.app_context():
        make_files(first, 12, tags=["week 3"], stored=True, prefix="handout")
        db.session.remove()
    log_in(page, first)
    page.get_by_role("link", name="Export library").click()
    expect(page.get_by_role("heading", name="Export library")).to_be_visible()
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download export (JSON)").click()
    saved = tmp_path / "library.json"
    waiting.value.save_as(saved)
    assert len(json.loads(saved.read_text())["files"]) == 12
    page.get_by_role("button", name="Log out").click()

    log_in(page, second)
    page.get_by_role("link", name="Import library").click()
    page.get_by_label("Library export (.json)").set_input_files(saved)
    page.get_by_role("button", name="Check (dry run)").click()
    result = page.locator("#import-result")
    expect(result).to_contain_text("Dry run")
    expect(result).to_contain_text("12 files")
    page.get_by_role("button", name="Import", exact=True).click()  # the chosen file stays chosen
    expect(result).to_contain_text("Imported 12 files")
    result.get_by_role("link", name="Open the library").click()
    expect(page.locator(".results-summary")).to_contain_text("12 files")
    screenshot(page, "imported-library")
    assert not problems, problems
