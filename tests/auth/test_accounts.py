"""What an account takes: passwords of at least 12 characters that are not common and not the email,
display names without control or bidi characters, and no email that only looks like an existing one."""
import html

import pytest
import sqlalchemy as sa

from mediamgr.auth.models import User
from mediamgr.extensions import db

from helpers import IsolatedClient, form_token


def register(app, email, password, name="New Instructor"):
    client = IsolatedClient(app)
    return client.post("/register", data={"display_name": name, "email": email, "password": password,
                                          "confirm": password, "csrf_token": form_token(client, "/register")})


@pytest.mark.parametrize("password, reason", [
    ("short pass1", "at least 12 characters"),
    ("password1234", "too easy to guess"),
    ("qwertyuiopas", "too easy to guess"),
    ("new.person@example.com", "can't be your email"),
    ("new.person12345", "too easy to guess"),
])
def test_weak_passwords_are_refused_with_the_reason(app, password, reason):
    answer = register(app, "new.person@example.com", password)
    assert answer.status_code == 422 and reason in html.unescape(answer.get_data(as_text=True))
    assert db.session.scalar(sa.select(User.id).where(User.email == "new.person@example.com")) is None


def test_a_long_uncommon_password_makes_the_account(app):
    assert register(app, "new.person@example.com", "tulip harbour seventeen").status_code == 302


def test_display_names_lose_control_and_bidi_characters(app):
    assert register(app, "new.person@example.com", "tulip harbour seventeen",
                    name="Ada\u202e \u0000Lovelace\u200f\n").status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "new.person@example.com"))
    assert user.display_name == "Ada Lovelace"


def test_an_email_that_only_looks_like_an_existing_one_is_refused(app, users):
    for lookalike in ("\u0430da@example.com", "ada@ex\u0430mple.com", "\u0430d\u0430@\u0435x\u0430mple.com"):
        answer = register(app, lookalike, "tulip harbour seventeen")
        assert answer.status_code == 422, lookalike
        assert "looks like the email of an existing account" in answer.get_data(as_text=True)
    assert register(app, "ADA@example.com", "tulip harbour seventeen").status_code == 422  # the same, in capitals
    assert register(app, "jos\u00e9@example.com", "tulip harbour seventeen").status_code == 302  # plain accents are fine
