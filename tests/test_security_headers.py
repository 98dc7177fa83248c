"""What the answers say to browsers and proxies: Secure cookies and HSTS over HTTPS (also behind a
proxy, through ProxyFix), no caching of signed-in pages, a CSP whose sources come from the
configuration and never from the Host header, uploaded bytes that never run on the app's origin,
signed URLs that live their whole lifetime, and PDFs previewed as page images."""
import re
import shutil
import time

import pytest

from mediamgr import create_app
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile, Rendition
from mediamgr.storage import signing

from helpers import IsolatedClient, base_config, log_in


@pytest.fixture
def app_with(tmp_path, redis_url, sqlite_template, monkeypatch):
    """An app made with these environment settings (as a deployment would set them)."""
    made = []

    def make(**env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        shutil.copyfile(sqlite_template, tmp_path / "db.sqlite3")
        app = create_app(base_config(tmp_path, redis_url, f"sqlite:///{tmp_path / 'db.sqlite3'}"))
        context = app.app_context()
        context.push()
        made.append(context)
        return app

    yield make
    for context in made:
        db.session.remove()
        context.pop()


def test_over_https_cookies_are_secure_and_hsts_is_sent(app_with):
    app = app_with(PUBLIC_URL="https://media.example.edu")
    answer = log_in(IsolatedClient(app), remember=True)
    cookies = answer.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie and "SameSite=Lax" in cookie for cookie in cookies)
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    page = IsolatedClient(app).get("/login", base_url="https://media.example.edu")
    assert "connect-src 'self' wss://media.example.edu" in page.headers["Content-Security-Policy"]


def failed_logins(app, count, **headers):
    return [IsolatedClient(app).post("/login", data={"email": f"x{n}@example.com", "password": "a wrong guess"},
                                     headers=headers).status_code for n in range(count)]


def test_behind_a_trusted_proxy_its_forwarded_headers_are_believed(app_with):
    app = app_with(TRUSTED_PROXIES="1")
    app.config["WTF_CSRF_ENABLED"] = False
    answer = IsolatedClient(app).get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in answer.headers
    # Rate limits count by the client's address (the proxy's X-Forwarded-For), not the proxy's own.
    assert failed_logins(app, 31, **{"X-Forwarded-For": "203.0.113.9"})[-1] == 429
    assert failed_logins(app, 1, **{"X-Forwarded-For": "203.0.113.10"}) == [422]


def test_without_a_trusted_proxy_forwarded_headers_change_nothing(app_with):
    app = app_with()
    app.config["WTF_CSRF_ENABLED"] = False
    answer = IsolatedClient(app).get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in answer.headers
    spoofed = [failed_logins(app, 1, **{"X-Forwarded-For": f"198.51.100.{n}"})[0] for n in range(31)]
    assert spoofed[-1] == 429  # a made-up X-Forwarded-For does not buy more attempts


def test_the_csp_names_configured_origins_never_the_host_header(app, users):
    answer = IsolatedClient(app).get("/login", headers={"Host": "evil.example:8080"})
    policy = answer.headers["Content-Security-Policy"]
    assert "evil.example" not in policy
    assert "connect-src 'self' ws://127.0.0.1:5000 ws://localhost:5000" in policy
    assert "frame-src 'none'" in policy and "script-src 'self'" in policy


def test_signed_in_pages_and_fragments_are_not_cached(ada):
    for url in ("/media", "/media/grid", "/courses", "/account"):
        assert ada.get(url, htmx=url == "/media/grid").headers["Cache-Control"] == "no-store", url
    assert "no-store" not in IsolatedClient(ada.client.raw.application).get("/login").headers.get("Cache-Control", "")


def test_uploaded_bytes_are_served_sandboxed_and_only_to_this_site(ada, worker, samples):
    ada.upload("diagram.png", samples.png_bytes())
    worker()
    media = db.session.query(MediaFile).one()
    html = ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True)
    url = re.search(r'<img src="(/files/[^"]+)" alt="Preview', html).group(1).replace("&amp;", "&")
    answer = ada.client.get(url)
    assert answer.status_code == 200
    assert answer.headers["Content-Security-Policy"].startswith("sandbox")
    assert answer.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_a_fresh_signed_url_lives_at_least_nine_tenths_of_its_ttl(monkeypatch):
    """With SIGNED_URL_TTL below the old 300 s signing window, a third of fresh URLs were expired: the
    same file's URL, signed again on a later page, came back from the window's cache."""
    ttl, start = 60, 1_800_000_000
    remaining = []
    for second in range(0, 300, 5):  # one thumbnail's URL, on 60 pages rendered over five minutes
        monkeypatch.setattr(time, "time", lambda: start + second)
        token = signing.sign_file_token("secret", {"k": "the-same-thumbnail"}, ttl)
        _payload, signed_at = signing._serializer("secret").loads(token, return_timestamp=True)
        remaining.append(signed_at.timestamp() + ttl - (start + second))
        assert signing.read_file_token("secret", token) is not None
    assert min(remaining) >= 0.9 * ttl


def test_a_pdf_is_previewed_as_page_images_and_its_script_never_runs_here(ada, worker, samples):
    ada.upload("handout.pdf", samples.pdf_with_open_action_script())
    worker()
    media = db.session.query(MediaFile).one()
    assert media.status == "ready" and media.page_count == 2
    pages = db.session.query(Rendition).filter_by(media_id=media.id).order_by(Rendition.spec).all()
    assert [page.spec for page in pages] == ["page-1", "page-2"] and all(page.width <= 1280 for page in pages)
    html = ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True)
    assert "<iframe" not in html and "<embed" not in html and "<object" not in html
    assert 'alt="Page 1 of handout.pdf"' in html and "Page 2 of 2" in html
    image = re.search(r'<img src="(/files/[^"]+)" width="\d+" height="\d+" loading="lazy" alt="Page 1', html).group(1)
    assert ada.client.get(image.replace("&amp;", "&")).headers["Content-Type"] == "image/webp"
    download = re.search(r'href="(/files/[^"]+)" download', html).group(1).replace("&amp;", "&")
    answer = ada.client.get(download)
    assert answer.headers["Content-Disposition"].startswith("attachment")
    assert answer.headers["Content-Security-Policy"].startswith("sandbox")


def test_deleting_a_pdf_removes_its_page_images(ada, worker, samples, app):
    ada.upload("handout.pdf", samples.pdf_bytes(3))
    worker()
    media = db.session.query(MediaFile).one()
    from mediamgr.storage import get_storage

    keys = [page.storage_key for page in db.session.query(Rendition).filter_by(media_id=media.id)]
    assert len(keys) == 3 and all(get_storage().exists(key) for key in keys)
    ada.post(f"/media/{media.id}/trash")
    ada.post(f"/media/{media.id}/delete")
    worker()  # the bytes go in a worker, after the commit
    assert not any(get_storage().exists(key) for key in keys)
    assert db.session.query(Rendition).count() == 0
