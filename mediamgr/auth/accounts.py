"""The rules of accounts: what a password must be (OWASP ASVS 2.1: at least 12 characters, not
common, not the email), what a display name may hold, which emails are refused as look-alikes of an
existing account, and a password check that takes as long for an unknown email as for a known one."""
import functools
import secrets
import unicodedata

import sqlalchemy as sa
from flask import current_app
from confusable_homoglyphs import confusables
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..extensions import db
from ..text import visible_text
from .models import User

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
MIN_PASSWORD_SCORE = 3  # zxcvbn: "safely unguessable" against an online attack and a slow-hash offline one
MAX_NAME_LENGTH = 120


class AccountRefused(ValueError):
    """Input an account cannot take; the message is for the user."""


def check_new_password(password, email="", name=""):
    """Refuse a password that is short, common, guessable from the account's own details, or the email."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountRefused(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountRefused(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if email and password.strip().lower() in (email.lower(), email.split("@")[0].lower()):
        raise AccountRefused("Your password can't be your email address.")
    verdict = zxcvbn(password, user_inputs=[part for part in (email, email.split("@")[0], name) if part])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        feedback = verdict["feedback"]
        hint = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])[:1]]))
        raise AccountRefused("This password is too easy to guess. " + (hint or "Try a longer phrase of uncommon words."))


def clean_display_name(raw):
    name = visible_text(raw)
    if not name:
        raise AccountRefused("Enter your name.")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountRefused(f"Use at most {MAX_NAME_LENGTH} characters.")
    return name


def normalize_email(raw):
    return unicodedata.normalize("NFKC", (raw or "").strip()).lower()


def skeleton(email):
    """The email with every letter that looks like a Latin one replaced by it: "аda@example.com" (a
    Cyrillic а) and "ada@example.com" have the same skeleton."""
    found = confusables.is_confusable(email, greedy=True, preferred_aliases=["latin"]) or []
    lookalikes = {}
    for entry in found:
        latin = next((glyph["c"] for glyph in entry["homoglyphs"] if glyph["c"].isascii()), None)
        if latin:
            lookalikes[entry["character"]] = latin
    return "".join(lookalikes.get(ch, ch) for ch in email)


def check_new_email(email):
    """Refuse an email of an existing account, or one that only looks like one."""
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise AccountRefused("An account with this email already exists. Log in instead.")
    if not email.isascii():
        lookalike = skeleton(email)
        if lookalike != email and db.session.scalar(sa.select(User.id).where(User.email == lookalike)):
            raise AccountRefused("This email looks like the email of an existing account (it mixes letters of "
                                 "different alphabets). Use another one.")


@functools.cache
def _dummy_hash(method):
    """A hash made the same way as the users' (PASSWORD_HASH_METHOD), for emails without an account."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def verify_login(email, password):
    """The user whose email and password these are, else None, in the same time either way: an
    unknown email checks the password against a dummy hash of the same cost."""
    user = db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
    stored = user.password_hash if user else _dummy_hash(current_app.config["PASSWORD_HASH_METHOD"])
    matches = check_password_hash(stored, password)
    return user if user is not None and matches else None
