"""Storage quotas: the distinct bytes stored for a user (current content, versions and the trash;
identical content once) against their quota; uploads (plain, tus at creation) and replacements that
would go past it are refused before a byte is kept, with how much is free and what the trash holds;
`flask quota` sets it; DEFAULT_QUOTA_BYTES applies to new accounts."""
import base64

import pytest
import sqlalchemy as sa

from mediamgr.auth.models import User
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.library.quotas import stored_bytes


def set_quota(email, size):
    db.session.execute(sa.update(User).where(User.email == email).values(quota_bytes=size))
    db.session.commit()


def ada_id():
    return db.session.scalar(sa.select(User.id).where(User.email == "ada@example.com"))


@pytest.mark.both_databases
def test_stored_bytes_count_each_content_once_with_versions_and_trash(ada, worker, samples):
    first, second, third = samples.png_bytes(), samples.png_bytes(color=(9, 9, 9)), samples.png_bytes(color=(1, 1, 1))
    ada.upload("a.png", first)
    ada.upload("a copy.png", first)  # the same content: stored once
    ada.upload("b.png", third)
    worker()
    a = db.session.scalars(sa.select(MediaFile).where(MediaFile.name == "a.png")).one()
    ada.client.post(f"/media/{a.id}/replace", data=second, headers=ada.headers(htmx=False, **{
        "X-Filename": "a2.png", "Content-Type": "application/octet-stream", "X-Requested-With": "XMLHttpRequest"}))
    worker()
    b = db.session.scalars(sa.select(MediaFile).where(MediaFile.name == "b.png")).one()
    ada.post(f"/media/{b.id}/trash")  # the trash counts until it is emptied
    assert stored_bytes(ada_id()) == len(first) + len(second) + len(third)


def test_an_upload_past_the_quota_is_refused_before_a_byte_is_kept(ada, worker, samples, app):
    content = samples.jpeg_bytes(320, 200)
    set_quota("ada@example.com", len(content) + 100)
    assert ada.upload("first.jpg", content).status_code == 201
    worker()
    other = samples.jpeg_bytes(640, 400)
    answer = ada.upload("second.jpg", other)
    assert answer.status_code == 413
    text = answer.get_data(as_text=True)
    assert text.startswith(f"This file ({len(other) / 1000:.1f} kB) does not fit your storage: 100 Bytes of")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile)) == 1
    staging = __import__("pathlib").Path(app.config["STAGING_DIR"])
    assert not [path for path in staging.iterdir() if path.is_file()]
    # The same content again costs nothing more: with the hash the page computed, it is let in.
    import hashlib
    again = ada.client.post("/media/upload", data=content, headers=ada.headers(htmx=False, **{
        "X-Filename": "first again.jpg", "Content-Type": "application/octet-stream",
        "X-Requested-With": "XMLHttpRequest", "X-Content-SHA256": hashlib.sha256(content).hexdigest()}))
    assert again.status_code == 201
    # A false claim only gets the body read: the bytes' own hash decides.
    lie = ada.client.post("/media/upload", data=other, headers=ada.headers(htmx=False, **{
        "X-Filename": "liar.jpg", "Content-Type": "application/octet-stream",
        "X-Requested-With": "XMLHttpRequest", "X-Content-SHA256": hashlib.sha256(content).hexdigest()}))
    assert lie.status_code == 413 and db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile)) == 2


def test_the_refusal_names_what_the_trash_holds(ada, worker, samples):
    content = samples.jpeg_bytes(320, 200)
    set_quota("ada@example.com", len(content) + 10)
    ada.upload("old.jpg", content)
    worker()
    ada.post(f"/media/{db.session.scalar(sa.select(MediaFile.id))}/trash")
    answer = ada.upload("new.jpg", samples.jpeg_bytes(400, 300))
    assert answer.status_code == 413
    assert "Files in the trash count until they are deleted" in answer.get_data(as_text=True)
    assert "/media/trash" in answer.get_data(as_text=True)


def test_tus_is_refused_at_creation_and_a_replacement_too(ada, worker, samples):
    content = samples.png_bytes()
    set_quota("ada@example.com", len(content) + 10)
    ada.upload("logo.png", content)
    worker()
    created = ada.client.post("/uploads/", headers=ada.headers(htmx=False, **{
        "Tus-Resumable": "1.0.0", "Upload-Length": "5000",
        "Upload-Metadata": "filename " + base64.b64encode(b"big.png").decode()}))
    assert created.status_code == 413 and "does not fit your storage" in created.get_data(as_text=True)
    media_id = db.session.scalar(sa.select(MediaFile.id))
    bigger = samples.png_bytes(200, 200, color=(3, 3, 3))
    answer = ada.client.post(f"/media/{media_id}/replace", data=bigger, headers=ada.headers(htmx=False, **{
        "X-Filename": "logo2.png", "Content-Type": "application/octet-stream", "X-Requested-With": "XMLHttpRequest"}))
    assert answer.status_code == 413 and "does not fit your storage" in answer.get_data(as_text=True)


def test_the_quota_command_and_the_default_for_new_accounts(app, users):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["quota", "ada@example.com", "10GB"])
    assert result.exit_code == 0, result.output
    assert "quota 10.0 GB" in result.output  # decimal: 10GB is 10,000,000,000 bytes
    assert db.session.scalar(sa.select(User.quota_bytes).where(User.email == "ada@example.com")) > 9_000_000_000
    assert runner.invoke(args=["quota", "ada@example.com", "unlimited"]).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.quota_bytes).where(User.email == "ada@example.com")) is None
    bad = runner.invoke(args=["quota", "ada@example.com", "lots"])
    assert bad.exit_code != 0 and "such as 10GB" in bad.output
    assert runner.invoke(args=["quota", "nobody@example.com", "1GB"]).exit_code != 0

    app.config["DEFAULT_QUOTA_BYTES"] = 5_000_000
    from mediamgr.cli import ensure_user
    ensure_user("new@example.com", "correct-horse-battery", "New", "instructor")
    assert db.session.scalar(sa.select(User.quota_bytes).where(User.email == "new@example.com")) == 5_000_000


def test_the_library_shows_how_much_of_the_quota_is_used(ada, worker, samples):
    content = samples.jpeg_bytes(320, 200)
    ada.upload("photo.jpg", content)
    worker()
    assert "of 10.0 GB used" not in ada.get("/media").get_data(as_text=True)  # unlimited: no bar
    set_quota("ada@example.com", 10_000_000_000)
    page = ada.get("/media").get_data(as_text=True)
    assert f"{len(content) / 1000:.1f} kB of 10.0 GB used" in page and 'aria-label="Storage used: 0%"' in page
