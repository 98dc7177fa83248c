"""Logins, sign-ups and password changes are rate-limited on the real Redis (per account and per
address), say when to try again (with Retry-After), and an unknown email costs the same password
check as a known one."""
import re

from mediamgr.auth import accounts

from helpers import PASSWORD, IsolatedClient, form_token, log_in


def test_fifty_wrong_passwords_then_the_right_one_is_refused(app, users):
    client = IsolatedClient(app)
    answers = [log_in(client, password=f"wrong guess {n}").status_code for n in range(50)]
    assert answers[:10] == [422] * 10 and set(answers[10:]) == {429}
    right = log_in(client)
    assert right.status_code == 429
    body = right.get_data(as_text=True)
    assert re.search(r"Too many attempts\. Try again in \d+ minutes?\.", body)
    assert int(right.headers["Retry-After"]) > 0
    assert 'action="/login"' in body or "<form" in body  # the login page again, with the reason
    # Another account from another address is not held back by Ada's lock.
    assert log_in(IsolatedClient(app), email="ben@example.com", address="10.0.0.8").status_code == 302


def test_strangers_elsewhere_cannot_lock_a_person_out(app, users):
    attacker = IsolatedClient(app)
    answers = [log_in(attacker, password=f"guess {n}", address="198.51.100.7").status_code for n in range(12)]
    assert answers[-1] == 429
    assert log_in(IsolatedClient(app), address="192.0.2.10").status_code == 302  # Ada, at home


def test_one_address_trying_many_accounts_is_stopped(app, users):
    client = IsolatedClient(app)
    answers = [log_in(client, email=f"someone{n}@example.com", password="whatever it is", address="10.1.1.1").status_code
               for n in range(31)]
    assert answers[:30] == [422] * 30 and answers[30] == 429
    assert log_in(client, address="10.1.1.1").status_code == 429  # even the right password, from there
    assert log_in(IsolatedClient(app), address="10.1.1.2").status_code == 302


def test_a_right_password_is_never_slowed_down(app, users):
    for _ in range(15):
        assert log_in(IsolatedClient(app)).status_code == 302


def test_sign_ups_are_limited_per_address(app):
    def sign_up(number):
        client = IsolatedClient(app)
        return client.post("/register", data={
            "display_name": f"Person {number}", "email": f"person{number}@example.com",
            "password": "lecture notes for spring", "confirm": "lecture notes for spring",
            "csrf_token": form_token(client, "/register")}, environ_base={"REMOTE_ADDR": "10.2.2.2"})

    answers = [sign_up(number) for number in range(11)]
    assert [answer.status_code for answer in answers] == [302] * 10 + [429]
    assert "Too many attempts" in answers[-1].get_data(as_text=True) and "Retry-After" in answers[-1].headers


def test_wrong_current_passwords_are_limited(ada):
    answers = [ada.post("/account/password", {"current": f"not it {n}", "password": "x", "confirm": "x"},
                        htmx=False).status_code for n in range(6)]
    assert answers[:5] == [422] * 5 and answers[5] == 429


def test_an_unknown_email_costs_a_password_check_like_a_known_one(app, users, monkeypatch):
    checked = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda stored, given: checked.append(stored) or real(stored, given))
    log_in(IsolatedClient(app), email="nobody@example.com", password="a guess of a password")
    log_in(IsolatedClient(app), email="ada@example.com", password="a guess of a password")
    assert len(checked) == 2
    unknown, known = checked
    assert unknown.split("$")[0] == known.split("$")[0] == app.config["PASSWORD_HASH_METHOD"]  # same method and cost
    assert accounts.verify_login("ada@example.com", PASSWORD) is not None
