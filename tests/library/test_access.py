"""Every query is scoped to its owner: someone else's id answers 404; an admin sees everyone's."""
import re

import pytest

from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.progress.models import Operation


@pytest.fixture
def adas_file(ada, worker, samples):
    ada.upload("private.png", samples.png_bytes())
    worker()
    return db.session.scalars(db.select(MediaFile)).one()


@pytest.mark.parametrize("method, path", [
    ("get", "/media/{id}"), ("post", "/media/{id}/rename"), ("post", "/media/{id}/details"),
    ("post", "/media/{id}/tags"), ("post", "/media/{id}/tags/remove"), ("post", "/media/{id}/trash"),
    ("post", "/media/{id}/restore"), ("post", "/media/{id}/delete"), ("post", "/media/{id}/retry"),
    ("get", "/operations/{op}"), ("post", "/operations/{op}/retry"),
])
def test_another_users_objects_answer_404(ben, adas_file, method, path):
    operation = db.session.scalars(db.select(Operation)).one()
    url = path.format(id=adas_file.id, op=operation.id)
    response = getattr(ben, method)(url, **({"data": {"name": "x", "tags": "x", "tag": "x"}} if method == "post" else {}))
    assert response.status_code == 404
    db.session.refresh(adas_file)
    assert (adas_file.name, adas_file.deleted_at) == ("private.png", None)


@pytest.mark.both_databases
def test_another_users_files_never_appear_in_listings(ben, adas_file):
    for url in ("/media", "/media/grid", "/media/grid?q=private", "/media/trash", "/operations/active"):
        assert "private.png" not in ben.get(url, htmx="grid" in url).get_data(as_text=True)


@pytest.mark.both_databases
def test_admin_sees_everyones_files(admin, adas_file):
    html = admin.get("/media").get_data(as_text=True)
    assert f'data-media-id="{adas_file.id}"' in html and "Ada" in html
    assert admin.get(f"/media/{adas_file.id}", htmx=True).status_code == 200


def test_pages_need_a_login(app, users):
    client = app.test_client()
    for url in ("/media", "/media/grid", "/media/1", "/media/trash", "/operations/active"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_state_changing_requests_without_a_csrf_token_are_refused(ada, adas_file):
    response = ada.client.post(f"/media/{adas_file.id}/trash", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    page = ada.client.post(f"/media/{adas_file.id}/rename", data={"name": "hacked"})
    assert page.status_code == 400 and "Please reload the page" in page.get_data(as_text=True)
    upload = ada.client.post("/media/upload", data=b"\x89PNG", headers={"X-Filename": "x.png"})
    assert upload.status_code == 400
    db.session.refresh(adas_file)
    assert (adas_file.name, adas_file.deleted_at) == ("private.png", None)


def test_login_with_a_wrong_password_says_so(app, users):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "ada@example.com", "password": "nope", "csrf_token": token})
    assert response.status_code == 422
    assert "do not match an account" in response.get_data(as_text=True)


def test_login_form_is_labelled_for_people_and_screen_readers(app):
    html = app.test_client().get("/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in html and '<label for="password">Password</label>' in html
    assert ">Log in</button>" in html


def test_next_parameter_never_leaves_the_site(app, users):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login?next=https://evil.example/", data={
        "email": "ada@example.com", "password": "correct-horse-battery", "csrf_token": token})
    assert response.headers["Location"] == "/media"


def test_registration_can_be_turned_off(app):
    app.config["REGISTRATION_OPEN"] = False
    assert app.test_client().get("/register").status_code == 404
