"""Courses in the seeded database, and timings of the course editor: the editor page of a course of
50 chapters × 50 items, and the reorder request (one chapter's whole new order), through the Flask
test client, with SQL queries per request. The grid's usage scenarios (Used filter, Most used sort,
Course filter) run in grid.py on the same data.

The seeded instructor gets the big course and COURSES_OTHER smaller ones, linking random files of
their library, so usage counts vary (some files are used twice); the counts on the rows are then
set from the links, as the app keeps them."""
import random
import re
import time

import sqlalchemy as sa

from mediamgr import create_app
from mediamgr.courses.models import Chapter, ChapterItem, Course
from mediamgr.extensions import db

from .grid import LOGIN_TOKEN, QueryRecorder
from .dataset import MAIN_EMAIL
from .report import Check, median, percentile
from .seed import PASSWORD

MAIN_OWNER_ID = 1  # the seeded instructor (dataset.user_rows puts them first)
BIG_CHAPTERS, BIG_ITEMS = 50, 50
COURSES_OTHER, OTHER_CHAPTERS, OTHER_ITEMS = 8, 10, 20
BIG_TITLE = "Data Structures (50 × 50)"
EDITOR_P95_MS = 100
REORDER_P95_MS = 20
WARMUP_REQUESTS = 3
EDITOR_REQUESTS = 30
REORDER_REQUESTS = 60
PAGE_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def seed_courses(connection, now):
    """The courses, chapters and items (Core inserts in the seeding transaction); returns counts."""
    rng = random.Random(4242)
    live = [row[0] for row in connection.execute(sa.text(
        "SELECT id FROM media_files WHERE owner_id = :owner AND deleted_at IS NULL ORDER BY id"),
        {"owner": MAIN_OWNER_ID})]
    shapes = [(BIG_TITLE, BIG_CHAPTERS, BIG_ITEMS)] + [
        (f"Course {number} of {COURSES_OTHER}", OTHER_CHAPTERS, OTHER_ITEMS) for number in range(1, COURSES_OTHER + 1)]
    items = 0
    for title, chapters, per_chapter in shapes:
        course_id = connection.execute(sa.insert(Course).returning(Course.id), {
            "owner_id": MAIN_OWNER_ID, "title": title, "created_at": now, "updated_at": now}).scalar_one()
        files = rng.sample(live, chapters * per_chapter)
        for number in range(1, chapters + 1):
            chapter_id = connection.execute(sa.insert(Chapter).returning(Chapter.id), {
                "course_id": course_id, "title": f"Week {number}", "position": number}).scalar_one()
            chunk = files[(number - 1) * per_chapter:number * per_chapter]
            connection.execute(sa.insert(ChapterItem), [
                {"chapter_id": chapter_id, "media_id": media_id, "title": f"Lesson {number}.{position}",
                 "position": position, "created_at": now} for position, media_id in enumerate(chunk, start=1)])
            items += len(chunk)
    connection.execute(sa.text(
        "UPDATE media_files SET usage_count = (SELECT count(*) FROM chapter_items "
        "WHERE chapter_items.media_id = media_files.id) WHERE id IN (SELECT media_id FROM chapter_items)"))
    return {"courses": len(shapes), "chapter_items": items}


class CourseBenchmark:
    def __init__(self, config, db_label, rounds):
        self.app = create_app(config)
        self.db_label, self.rounds = db_label, rounds
        with self.app.app_context():
            self.engine = db.engine
            self.course_id = db.session.scalar(sa.select(Course.id).where(Course.title == BIG_TITLE))
            self.chapter_id = db.session.scalar(sa.select(Chapter.id).where(Chapter.course_id == self.course_id,
                                                                           Chapter.position == 1))
            self.item_ids = list(db.session.scalars(sa.select(ChapterItem.id).where(
                ChapterItem.chapter_id == self.chapter_id).order_by(ChapterItem.position)))
        self.recorder = QueryRecorder(self.engine)
        self.client = self.app.test_client()
        self.token = None

    def run(self, report):
        if self.course_id is None:
            raise RuntimeError("no seeded course: was the database seeded by this version?")
        self._login()
        editor = {"p50": [], "p95": [], "queries": set(), "bytes": len(self._editor().get_data())}
        reorder = {"p50": [], "p95": [], "queries": set()}
        for round_number in range(1, self.rounds + 1):
            started = time.perf_counter()
            self._time(editor, EDITOR_REQUESTS, self._editor)
            self._time(reorder, REORDER_REQUESTS, self._reorder)
            print(f"  round {round_number}/{self.rounds} done in {time.perf_counter() - started:.1f} s", flush=True)
        items = BIG_CHAPTERS * BIG_ITEMS
        report.add(Check(f"course editor, {BIG_CHAPTERS} chapters × {BIG_ITEMS} items · {self.db_label}",
                         f"p95 {median(editor['p95']):.1f} ms, p50 {median(editor['p50']):.1f} ms · "
                         f"{max(editor['queries'])} queries · {editor['bytes'] / 1024:.0f} KiB of HTML for {items:,} items",
                         f"p95 ≤ {EDITOR_P95_MS} ms", median(editor["p95"]) <= EDITOR_P95_MS, _data(editor)))
        report.add(Check(f"reorder request ({BIG_ITEMS} items, whole order) · {self.db_label}",
                         f"p95 {median(reorder['p95']):.1f} ms, p50 {median(reorder['p50']):.1f} ms · "
                         f"{max(reorder['queries'])} queries",
                         f"p95 ≤ {REORDER_P95_MS} ms", median(reorder["p95"]) <= REORDER_P95_MS, _data(reorder)))
        self.engine.dispose()

    def _login(self):
        page = self.client.get("/login").get_data(as_text=True)
        answer = self.client.post("/login", data={"email": MAIN_EMAIL, "password": PASSWORD,
                                                  "csrf_token": LOGIN_TOKEN.search(page).group(1)})
        if answer.status_code != 302:
            raise RuntimeError(f"login failed with {answer.status_code}")
        self.token = PAGE_TOKEN.search(self.client.get("/courses").get_data(as_text=True)).group(1)

    def _time(self, figure, requests, call):
        for _ in range(WARMUP_REQUESTS):
            call()
        samples = []
        for _ in range(requests):
            self.recorder.reset()
            started = time.perf_counter()
            call()
            samples.append(time.perf_counter() - started)
            figure["queries"].add(self.recorder.count)
        figure["p50"].append(percentile(samples, 0.50) * 1000)
        figure["p95"].append(percentile(samples, 0.95) * 1000)

    def _editor(self):
        answer = self.client.get(f"/courses/{self.course_id}/edit")
        if answer.status_code != 200:
            raise RuntimeError(f"course editor: HTTP {answer.status_code}")
        return answer

    def _reorder(self):
        """A drop: the chapter's order with one item moved from the front to the back (as a drag
        does); the next drop moves the next one, so every request changes the order."""
        self.item_ids.append(self.item_ids.pop(0))
        answer = self.client.post(f"/chapters/{self.chapter_id}/items/order",
                                  data={"item": [str(item_id) for item_id in self.item_ids]},
                                  headers={"HX-Request": "true", "X-CSRFToken": self.token})
        if answer.status_code != 200:
            raise RuntimeError(f"reorder: HTTP {answer.status_code}")


def _data(figure):
    return {"p50_rounds_ms": figure["p50"], "p95_rounds_ms": figure["p95"], "queries": sorted(figure["queries"]),
            **({"html_bytes": figure["bytes"]} if "bytes" in figure else {})}


def run(config, db_label, report, rounds):
    CourseBenchmark(config, db_label, rounds).run(report)
