"""No input answers 500: every route in the URL map, with hostile values in each path, query, form and
header parameter it reads (found by watching what the view reads), answers with a clear 4xx or a
normal page, on SQLite and PostgreSQL."""
import base64
import os
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import EnvironHeaders, ImmutableMultiDict

from mediamgr.courses.models import Chapter, ChapterItem, Course
from mediamgr.extensions import db
from mediamgr.progress.models import Operation
from mediamgr.upload.models import ResumableUpload

from factories import make_files

pytestmark = pytest.mark.both_databases
SHOWN = int(os.environ.get("SHOW_FAILURES", "40"))  # how many failing requests a failure lists


def _cursor(raw):
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# What a tester types into every field: numbers beyond 32 and 64 bits, digits that str.isdigit()
# accepts and int() refuses, NUL and control characters, JSON's non-numbers, markup, SQL, paths, and
# cursors that decode to all of those.
HOSTILE = [
    "99999999999999999999999999", "9223372036854775808", "2147483648", "-1", "0", "²", "¹²", "١٢", "𝟗",
    "\x00", "a\x00b", "Infinity", "1e400", "NaN", " 7", "<script>alert(1)</script>", "' OR 1=1 --",
    "../../etc/passwd", "x" * 3000,
    _cursor("[1e400, 1]"), _cursor("[Infinity, 1]"), _cursor("[1, 99999999999999999999]"),
    _cursor('["9999-99-99", 1]'), _cursor("[[1], {}]"), _cursor("[true, true]"),
]
HOSTILE_HEADERS = ["99999999999999999999999999", "-1", "²", "١٢", "\x00", "a\x00b", "1e400", "<script>", "x" * 3000]
HOSTILE_PATHS = ["99999999999999999999999999", "9223372036854775808", "2147483648", "0", "²", "١٢",
                 "%00", "..%2F..%2Fetc", "x" * 300]
# Well-formed values for the parameters a request is not testing, so each hostile value reaches as
# deep into the view as it can.
VALID = {"action": "add_tags", "scope": "library", "tags": "week 1", "tag": "week 1", "category": "notes",
         "title": "A title", "name": "renamed", "description": "text", "direction": "up", "q": "file",
         "type": "document", "sort": "name", "view": "list", "usage": "unused", "email": "ada@example.com",
         "password": "wrong password", "links": "1", "unlink": "1", "then": "in-use", "confirm": "x",
         "display_name": "Ada", "Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Offset": "0",
         "HX-Request": "true", "Content-Type": "application/offset+octet-stream"}
SKIPPED_HEADERS = {"Cookie", "Content-Length", "Host", "Transfer-Encoding", "X-Csrftoken", "Upgrade", "Connection"}
# A name that every request reads the same way (the sign-in's User-Agent, a bearer token, htmx's
# HX-Request, the form's csrf_token) is tried on this many routes of each method, not on every one.
COMMON_NAME_ROUTES = 4


class _Reads:
    """The names a view reads from the query, the form and the headers during one request."""

    def __init__(self):
        self.params, self.headers, self.reads_everything = set(), set(), False


READS = _Reads()


class RecordingDict(ImmutableMultiDict):
    def __getitem__(self, key):
        READS.params.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):
        READS.params.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        READS.params.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        READS.params.add(key)
        return super().__contains__(key)

    def to_dict(self, flat=True):
        READS.reads_everything = True
        return super().to_dict(flat)


class RecordingHeaders(EnvironHeaders):
    def __getitem__(self, key, _get_mode=False):
        READS.headers.add(key.title())
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):
        READS.headers.add(key.title())
        return super().get(key, default, type)

    def __contains__(self, key):
        READS.headers.add(key.title())
        return super().__contains__(key)


@pytest.fixture
def recording_app(app):
    base = app.request_class

    class RecordingRequest(base):
        parameter_storage_class = RecordingDict

        def __init__(self, environ, *args, **kwargs):
            super().__init__(environ, *args, **kwargs)
            self.headers = RecordingHeaders(environ)

    app.request_class = RecordingRequest
    yield app
    app.request_class = base


@pytest.fixture
def objects(recording_app, ada, ben, worker):
    """One of each of ada's objects, for the path parameters (and ben's, which must answer 404)."""
    media_ids = make_files("ada@example.com", 3, tags=["week 1"])
    trashed = make_files("ada@example.com", 1, trashed=True)
    ada.post("/courses", {"title": "Course"})
    course = db.session.scalars(sa.select(Course)).one()
    ada.post(f"/courses/{course.id}/chapters", {"title": "One"})
    ada.post(f"/courses/{course.id}/chapters", {"title": "Two"})
    chapter = db.session.scalars(sa.select(Chapter).order_by(Chapter.position)).first()
    ada.post(f"/chapters/{chapter.id}/items", {"media": str(media_ids[0])})
    ada.post("/media/bulk", {"action": "add_tags", "scope": "library", "ids": [str(media_ids[1])], "tags": "x"})
    worker()
    ada.client.post("/uploads/", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "100",
                                          "X-CSRFToken": ada.token})
    return {"media_id": media_ids[1], "course_id": course.id, "chapter_id": chapter.id,
            "item_id": db.session.scalar(sa.select(ChapterItem.id)),
            "operation_id": db.session.scalar(sa.select(Operation.id)),
            "upload_id": db.session.scalar(sa.select(ResumableUpload.id)), "token": "x", "filename": "app.js",
            "trashed_id": trashed[0]}


def _routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        for method in sorted(rule.methods - {"HEAD"} if rule.methods != {"HEAD", "OPTIONS"} else rule.methods):
            if method == "OPTIONS" and rule.endpoint != "upload.tus_options":
                continue
            yield rule, method


class Walker:
    def __init__(self, browser, objects):
        self.browser, self.objects, self.failures, self.requests = browser, objects, [], 0
        self.tried_on = {}  # (name, method) -> how many routes it was tried on
        self.readers = {}  # name -> how many routes read it

    def path(self, rule, override=None):
        values = {arg: str(self.objects.get(arg, 1)) for arg in _in_path(rule)}
        values.update(override or {})
        path = rule.rule
        for arg, value in values.items():
            path = path.replace(f"<{_converter(rule, arg)}{arg}>", value)
        return path

    def send(self, method, path, params, headers):
        READS.params, READS.headers, READS.reads_everything = set(), set(), False
        base = {"X-CSRFToken": self.browser.token} if self.browser.token else {}
        query, form = (params, None) if method in ("GET", "DELETE", "OPTIONS") else ({}, params)
        try:
            response = self.browser.client.open(path, method=method, query_string=query, data=form,
                                                headers={**base, **headers})
        except ValueError:  # a header value the HTTP layer itself refuses (werkzeug checks them)
            return None
        self.requests += 1
        body = response.get_data(as_text=True)
        if response.status_code >= 500 or "Traceback" in body:
            self.failures.append(f"{method} {path} {params!r} {headers!r} -> {response.status_code}: {body[:200]}")
        return response

    def worth_trying(self, name, method):
        """False for a name every route reads (once it was tried on COMMON_NAME_ROUTES of them)."""
        self.readers[name] = self.readers.get(name, 0) + 1
        tried = self.tried_on.get((name, method), 0)
        if self.readers[name] > COMMON_NAME_ROUTES and tried >= COMMON_NAME_ROUTES:
            return False
        self.tried_on[(name, method)] = tried + 1
        return True

    def walk(self, rule, method):
        """Find what the view reads, then send each hostile value to each of those names in turn."""
        path = self.path(rule)
        params, headers = {}, {}
        for _round in range(3):
            self.send(method, path, params, headers)
            names = set(READS.params) | (set(VALID) if READS.reads_everything else set())
            read_headers = READS.headers - SKIPPED_HEADERS
            grown = names - set(params) or read_headers - set(headers)
            params.update({name: VALID.get(name, "1") for name in names if name not in params})
            headers.update({name: VALID.get(name, "1") for name in read_headers if name not in headers})
            if not grown:
                break
        for name in params:
            if self.worth_trying(name, method):
                for value in HOSTILE:
                    self.send(method, path, {**params, name: value}, headers)
        for name in headers:
            if self.worth_trying("header:" + name, method):
                for value in HOSTILE_HEADERS:
                    self.send(method, path, params, {**headers, name: value})
        for arg in _in_path(rule):
            for value in HOSTILE_PATHS:
                self.send(method, self.path(rule, {arg: quote(value, safe="%")}), params, headers)


def _in_path(rule):
    """The rule's arguments that its path holds (not those given by its defaults)."""
    return [arg for arg in rule.arguments if f"{arg}>" in rule.rule]


def _converter(rule, arg):
    """'int:' of '<int:media_id>' ('' for a plain '<upload_id>')."""
    end = rule.rule.index(f"{arg}>")
    return rule.rule[rule.rule.rindex("<", 0, end) + 1:end]


def _walk_everything(app, browser, objects):
    walker = Walker(browser, objects)
    for rule, method in _routes(app):
        if rule.endpoint in ("auth.logout", "progress.socket"):
            continue  # logging out mid-walk would leave the rest unauthenticated; the socket has its own tests
        walker.walk(rule, method)
    return walker


def test_every_route_answers_hostile_input_without_a_500(recording_app, ada, objects):
    walker = _walk_everything(recording_app, ada, objects)
    assert walker.requests > 1000
    assert not walker.failures, f"{len(walker.failures)} answers of 500:\n" + "\n".join(walker.failures[:SHOWN])


def test_without_a_session_hostile_input_never_answers_500(recording_app, objects):
    from helpers import Browser

    stranger = Browser(recording_app)
    walker = _walk_everything(recording_app, stranger, objects)
    assert not walker.failures, f"{len(walker.failures)} answers of 500:\n" + "\n".join(walker.failures[:SHOWN])


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def test_the_reported_inputs_answer_a_clear_4xx_or_a_page(ada, objects):
    """The security tester's list, each with the answer it gets now."""
    item, upload = objects["item_id"], objects["upload_id"]
    big = "99999999999999999999"
    tus = {"Tus-Resumable": "1.0.0", "X-CSRFToken": ada.token}
    cases = [
        ("GET", f"/media/{big}", {}, {}, 404),
        ("GET", f"/courses/{2**31}/edit", {}, {}, 404),
        ("POST", "/media/bulk", {"action": "trash", "scope": "library", "ids": big}, {}, 400),
        ("POST", "/media/bulk", {"action": "trash", "scope": "library", "ids": "²"}, {}, 400),
        ("GET", "/media/grid?sort=largest&cursor=" + _cursor("[1e400, 5]"), {}, {}, 200),
        ("GET", "/media/grid?sort=largest&cursor=" + _cursor("[Infinity, 5]"), {}, {}, 200),
        ("GET", "/media/grid?sort=largest&cursor=" + _cursor(f"[{2**70}, {2**70}]"), {}, {}, 200),
        ("GET", "/media/grid?course=²", {}, {}, 200),
        ("GET", "/media/grid?q=a%00b", {}, {}, 200),
        ("POST", f"/items/{item}/move", {"chapter": "²"}, {}, 400),
        ("POST", f"/chapters/{objects['chapter_id']}/items", {"media": "¹²"}, {}, 400),
        ("POST", "/media/upload", None, {"X-Link-Chapter": "²", "X-Filename": "a.png"}, 404),
        ("POST", "/uploads/", None, {**tus, "Upload-Length": "²"}, 400),
        ("POST", "/uploads/", None, {**tus, "Upload-Length": "10", "Upload-Metadata": f"chapter {_b64('²')}"}, 404),
        ("PATCH", f"/uploads/{upload}", None, {**tus, "Upload-Offset": "²",
                                               "Content-Type": "application/offset+octet-stream"}, 400),
    ]
    for method, url, form, headers, status in cases:
        response = ada.client.open(url, method=method, data=form if form is not None else b"x",
                                   headers={"HX-Request": "true", "X-CSRFToken": ada.token, **headers})
        assert response.status_code == status, (method, url, headers, response.get_data(as_text=True)[:300])
        if status >= 400:
            assert response.get_data(as_text=True).strip(), (method, url)  # a message, not an empty answer
