"""Sessions end where they should: logout ends every copy of the session's cookies (the remember
cookie too), a password change and an admin's "Sign out everywhere" end the others, "Remember me" is
opt-in for 30 days, and the CSRF token is a new one after login."""
import re
from datetime import timedelta

import sqlalchemy as sa

from mediamgr.auth.models import UserSession
from mediamgr.extensions import db
from mediamgr.timeutil import utcnow

from helpers import PASSWORD, IsolatedClient, form_token, log_in

CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


def cookies_of(client):
    return {cookie.key: cookie.value for cookie in client.raw._cookies.values()}


def client_with(app, cookies):
    """Another browser holding copies of these cookies (stolen, or an old tab)."""
    client = IsolatedClient(app)
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def signed_in(client):
    response = client.get("/media")
    return response.status_code == 200


def test_logout_ends_every_copy_of_the_session_and_its_remember_cookie(app, users):
    client = IsolatedClient(app)
    assert log_in(client, remember=True).status_code == 302
    copied = cookies_of(client)
    assert {"session", "remember_token"} <= set(copied)
    token = CSRF.search(client.get("/media").get_data(as_text=True)).group(1)
    assert client.post("/logout", headers={"X-CSRFToken": token}).status_code == 302
    assert not signed_in(client_with(app, copied))
    assert not signed_in(client_with(app, {"remember_token": copied["remember_token"]}))
    assert not signed_in(client_with(app, {"session": copied["session"]}))


def test_remember_me_is_opt_in_and_lasts_thirty_days(app, users):
    plain = IsolatedClient(app)
    answer = log_in(plain)
    assert "remember_token" not in " ".join(answer.headers.getlist("Set-Cookie"))
    remembered = IsolatedClient(app)
    cookie = next(value for value in log_in(remembered, remember=True).headers.getlist("Set-Cookie")
                  if value.startswith("remember_token="))
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    expires = db.session.scalar(sa.select(UserSession.expires_at).where(UserSession.remember.is_(True)))
    assert timedelta(days=29) < expires - utcnow() <= timedelta(days=30)
    assert signed_in(client_with(app, {"remember_token": cookies_of(remembered)["remember_token"]}))


def test_every_cookie_is_same_site_lax(app, users):
    client = IsolatedClient(app)
    for cookie in log_in(client, remember=True).headers.getlist("Set-Cookie"):
        assert "SameSite=Lax" in cookie and "HttpOnly" in cookie, cookie


def test_the_csrf_token_is_a_new_one_after_login(app, users):
    client = IsolatedClient(app)
    before = form_token(client)
    log_in(client)
    after = CSRF.search(client.get("/media").get_data(as_text=True)).group(1)
    assert after != before
    refused = client.post("/courses", data={"title": "x", "csrf_token": before})
    assert refused.status_code == 400


def test_a_session_idle_too_long_has_ended(app, users):
    client = IsolatedClient(app)
    log_in(client)
    db.session.execute(sa.update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert not signed_in(client)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0


def test_a_password_change_signs_out_every_other_session(app, users):
    laptop, phone = IsolatedClient(app), IsolatedClient(app)
    log_in(laptop)
    log_in(phone, remember=True)
    phone_cookies = cookies_of(phone)
    token = CSRF.search(laptop.get("/account").get_data(as_text=True)).group(1)
    answer = laptop.post("/account/password", data={"current": PASSWORD, "password": "a new lecture season 2027",
                                                    "confirm": "a new lecture season 2027", "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert "Signed out of 1 other session" in laptop.get("/account").get_data(as_text=True)
    assert signed_in(laptop)
    assert not signed_in(phone) and not signed_in(client_with(app, {"remember_token": phone_cookies["remember_token"]}))
    assert log_in(IsolatedClient(app), password="a new lecture season 2027").status_code == 302


def test_a_password_change_needs_the_current_password_and_a_strong_new_one(app, users):
    client = IsolatedClient(app)
    log_in(client)
    token = CSRF.search(client.get("/account").get_data(as_text=True)).group(1)
    wrong = client.post("/account/password", data={"current": "not it at all", "password": "a new lecture season",
                                                   "confirm": "a new lecture season", "csrf_token": token})
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    weak = client.post("/account/password", data={"current": PASSWORD, "password": "password1234",
                                                  "confirm": "password1234", "csrf_token": token})
    assert weak.status_code == 422 and "too easy to guess" in weak.get_data(as_text=True)


def test_sign_out_everywhere_else_keeps_only_this_browser(app, users):
    here, elsewhere = IsolatedClient(app), IsolatedClient(app)
    log_in(here)
    log_in(elsewhere)
    page = here.get("/account").get_data(as_text=True)
    assert page.count('class="session-agent"') == 2 and "This browser" in page
    here.post("/account/sessions/end-others", headers={"X-CSRFToken": CSRF.search(page).group(1)})
    assert signed_in(here) and not signed_in(elsewhere)


def test_an_admin_signs_someone_out_everywhere(app, users, admin, ben):
    ada_laptop, ada_phone = IsolatedClient(app), IsolatedClient(app)
    log_in(ada_laptop)
    log_in(ada_phone, remember=True)
    page = admin.get("/admin").get_data(as_text=True)
    assert "ada@example.com" in page and "Sign out everywhere" in page
    ada_id = db.session.scalar(sa.text("SELECT id FROM users WHERE email = 'ada@example.com'"))
    answer = admin.post(f"/admin/users/{ada_id}/sign-out", htmx=False)
    assert answer.status_code == 302
    assert not signed_in(ada_laptop) and not signed_in(ada_phone)
    assert ben.get("/admin/users").status_code == 404
    assert ben.post(f"/admin/users/{ada_id}/sign-out").status_code == 404
