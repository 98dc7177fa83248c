"""Personal access tokens: made on the account page (shown once, stored hashed), revoked there, and
accepted as `Authorization: Bearer …` for uploads (plain and tus, no CSRF token, no cookie) and for
reading the library, never for anything else. A script uploads a folder of lectures with tuspy."""
import base64
import re

import pytest
import requests
import sqlalchemy as sa
from tusclient import client as tus_client

from mediamgr.auth.models import ApiToken
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile

from factories import make_files
from helpers import PASSWORD, LiveApp

TOKEN = re.compile(r'id="new-token-value" class="token-value" value="(mm_[^"]+)"')


def make_token(browser, name="Lecture uploader"):
    made = browser.post("/account/tokens", {"name": name, "password": PASSWORD}, htmx=False)
    assert made.status_code == 302, made.get_data(as_text=True)[:500]
    secret = TOKEN.search(browser.get(made.headers["Location"]).get_data(as_text=True)).group(1)
    assert secret not in browser.get(made.headers["Location"]).get_data(as_text=True)  # shown once
    return secret


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_shown_once_stored_hashed_and_listed(ada, app):
    page = ada.get("/account").get_data(as_text=True)
    assert '<label for="token-name">Token name</label>' in page and ">Create token</button>" in page
    token = make_token(ada)
    row = db.session.scalars(sa.select(ApiToken)).one()
    assert token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64 and token.startswith(row.prefix)
    again = ada.get("/account").get_data(as_text=True)
    assert token not in again and "Lecture uploader" in again and f"{row.prefix}…" in again and "Revoke" in again
    assert ada.get("/media").get_data(as_text=True).count('href="/account"') == 1  # linked from the header


def test_a_token_uploads_without_cookies_or_csrf_and_reads_the_library(ada, app, samples, worker):
    token = make_token(ada)
    client = app.test_client()  # no cookies at all
    answer = client.post("/media/upload", data=samples.png_bytes(), headers={
        **bearer(token), "X-Filename": "diagram.png", "Content-Type": "application/octet-stream"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert "Set-Cookie" not in answer.headers  # the session is neither read nor written
    worker()
    media = db.session.scalars(sa.select(MediaFile)).one()
    assert media.owner.email == "ada@example.com" and media.status == "ready"
    grid = client.get("/media/grid", headers=bearer(token))
    assert grid.status_code == 200 and f'data-media-id="{media.id}"' in grid.get_data(as_text=True)
    assert client.get(f"/media/{media.id}", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("method, url", [("post", "/media/{id}/trash"), ("post", "/media/{id}/rename"),
                                         ("get", "/account"), ("post", "/account/tokens"), ("post", "/courses"),
                                         ("post", "/media/bulk"), ("post", "/logout")])
def test_a_token_cannot_change_or_delete_anything_else(ada, app, method, url):
    token = make_token(ada)
    [media_id] = make_files("ada@example.com", 1)
    answer = getattr(app.test_client(), method)(url.format(id=media_id), headers=bearer(token), data={"name": "x"})
    assert answer.status_code == 403 and "API tokens can upload files and read the library" in answer.get_data(as_text=True)
    assert not db.session.get(MediaFile, media_id).in_trash


def test_revoked_unknown_and_other_peoples_tokens(ada, ben, app):
    [adas] = make_files("ada@example.com", 1)
    bens_token = make_token(ben, "Ben's script")
    client = app.test_client()
    assert client.get(f"/media/{adas}", headers=bearer(bens_token)).status_code == 404  # scoped like a session
    assert client.get("/media/grid", headers=bearer("mm_not-a-real-token")).status_code == 401
    token = make_token(ada)
    token_id = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.name == "Lecture uploader"))
    assert ben.post(f"/account/tokens/{token_id}/revoke", htmx=False).status_code == 404
    assert ada.post(f"/account/tokens/{token_id}/revoke", htmx=False).status_code == 302
    revoked = client.get("/media/grid", headers=bearer(token))
    assert revoked.status_code == 401 and "not valid" in revoked.get_data(as_text=True)


def test_a_token_needs_the_password_and_a_bounded_name(ada):
    """A stolen session alone cannot mint a key that outlives it."""
    wrong = ada.post("/account/tokens", {"name": "backdoor", "password": "not the password"}, htmx=False)
    assert wrong.status_code == 422 and "not your password" in wrong.get_data(as_text=True)
    assert ada.post("/account/tokens", {"name": "  ", "password": PASSWORD}, htmx=False).status_code == 422
    assert ada.post("/account/tokens", {"name": "x" * 81, "password": PASSWORD}, htmx=False).status_code == 422
    assert ada.post("/account/tokens", {"name": "<script>alert(1)</script>", "password": PASSWORD},
                    htmx=False).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1
    assert "<script>alert(1)</script>" not in ada.get("/account").get_data(as_text=True)


def test_a_token_uploads_into_the_library_but_never_into_a_course(ada, app, samples):
    from factories import course_with_chapters

    token = make_token(ada)
    _course, (chapter,) = course_with_chapters(ada, "Week 1")
    client = app.test_client()
    plain = client.post("/media/upload", data=samples.png_bytes(), headers={
        **bearer(token), "X-Filename": "a.png", "X-Link-Chapter": str(chapter)})
    tus = client.post("/uploads/", headers={**bearer(token), "Tus-Resumable": "1.0.0", "Upload-Length": "100",
                                            "Upload-Metadata": "chapter " + base64.b64encode(str(chapter).encode()).decode()})
    assert plain.status_code == 403 and tus.status_code == 403
    assert "cannot add files to a course" in plain.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile)) == 0


def test_a_password_change_and_an_admins_sign_out_revoke_tokens(ada, admin, app):
    token = make_token(ada)
    client = app.test_client()
    assert client.get("/media/grid", headers=bearer(token)).status_code == 200
    ada_id = db.session.scalar(sa.text("SELECT id FROM users WHERE email = 'ada@example.com'"))
    admin.post(f"/admin/users/{ada_id}/sign-out", htmx=False)
    assert client.get("/media/grid", headers=bearer(token)).status_code == 401
    second = make_token(ada.sign_in("ada@example.com"), "Second")
    ada.post("/account/password", {"current": PASSWORD, "password": "tulip harbour seventeen",
                                   "confirm": "tulip harbour seventeen", "revoke_tokens": "y"}, htmx=False)
    assert client.get("/media/grid", headers=bearer(second)).status_code == 401


@pytest.fixture
def live(app, users):
    server = LiveApp(app)
    yield server
    server.stop()


def test_a_script_uploads_a_folder_of_lectures_with_tuspy_and_a_token(ada, live, worker, samples, tmp_path):
    token = make_token(ada)
    folder = tmp_path / "week 3"
    folder.mkdir()
    lectures = {"01 Dijkstra.webm": samples.video_bytes(seconds=1), "02 A-star.webm": samples.video_bytes(seconds=1),
                "slides.pdf": samples.pdf_bytes(3)}
    for name, content in lectures.items():
        (folder / name).write_bytes(content)
    client = tus_client.TusClient(live.url + "/uploads/", headers=bearer(token))
    for path in sorted(folder.iterdir()):  # what the README's example does
        client.uploader(str(path), chunk_size=256 * 1024, metadata={"filename": path.name}).upload()
    worker()
    stored = {media.name: media for media in db.session.scalars(sa.select(MediaFile))}
    assert set(stored) == set(lectures)
    assert all(media.status == "ready" and media.owner.email == "ada@example.com" for media in stored.values())
    listing = requests.get(live.url + "/media/grid?q=dijkstra", headers=bearer(token), timeout=10)
    assert listing.status_code == 200 and "01 Dijkstra.webm" in listing.text
