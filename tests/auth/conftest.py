"""Fixtures of the account tests: a browser that goes through the login form, and the form's token."""
import re

import pytest

from helpers import PASSWORD

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def form_token(client, url="/login"):
    return TOKEN.search(client.get(url).get_data(as_text=True)).group(1)


def log_in(client, email="ada@example.com", password=PASSWORD, remember=False, address="127.0.0.1"):
    """POST the login form as a person would (from `address`); returns the response."""
    data = {"email": email, "password": password, "csrf_token": form_token(client)}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def login():
    return log_in
