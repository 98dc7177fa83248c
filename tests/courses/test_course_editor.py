"""Courses and chapters: create, rename, add, reorder (move up/down and a whole new order), delete,
ordering under concurrent edits, isolation between instructors, and escaping."""
import pytest
import re
import threading

import sqlalchemy as sa

from mediamgr.courses.models import Chapter, Course
from mediamgr.extensions import db


def new_course(browser, title="Algorithms"):
    answer = browser.post("/courses", {"title": title})
    assert answer.status_code == 204, answer.get_data(as_text=True)
    return int(re.search(r"/courses/(\d+)/edit", answer.headers["HX-Redirect"]).group(1))


def chapter_titles(course_id):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Chapter.title).where(Chapter.course_id == course_id)
                                   .order_by(Chapter.position)))


def chapter_ids(course_id):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Chapter.id).where(Chapter.course_id == course_id)
                                   .order_by(Chapter.position)))


def positions(course_id):
    return list(db.session.scalars(sa.select(Chapter.position).where(Chapter.course_id == course_id)
                                   .order_by(Chapter.position)))


def test_courses_page_lists_courses_with_counts_and_an_empty_state(ada):
    assert "No courses yet." in ada.get("/courses").get_data(as_text=True)
    course_id = new_course(ada)
    for title in ("Week 1", "Week 2"):
        ada.post(f"/courses/{course_id}/chapters", {"title": title})
    page = ada.get("/courses").get_data(as_text=True)
    assert "Algorithms" in page and re.search(r"<td>2</td>\s*<td>0</td>", page)


def test_plain_form_creates_and_redirects_to_the_editor(ada):
    answer = ada.post("/courses", {"title": "Databases"}, htmx=False)
    assert answer.status_code == 302 and "/edit" in answer.headers["Location"]
    editor = ada.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'value="Databases"' in editor and "This course has no chapters yet." in editor


def test_titles_are_required_and_bounded(ada):
    assert ada.post("/courses", {"title": "   "}).status_code == 422
    course_id = new_course(ada)
    answer = ada.post(f"/courses/{course_id}/chapters", {"title": ""})
    assert answer.status_code == 422 and "be empty" in answer.get_data(as_text=True)
    assert ada.post(f"/courses/{course_id}/title", {"title": "x" * 201}).status_code == 422
    assert chapter_titles(course_id) == []


@pytest.mark.both_databases
def test_add_rename_move_reorder_and_delete_chapters(ada):
    course_id = new_course(ada)
    for title in ("Intro", "Sorting", "Graphs", "Review"):
        assert ada.post(f"/courses/{course_id}/chapters", {"title": title}).status_code == 200
    intro, sorting, graphs, review = chapter_ids(course_id)
    ada.post(f"/chapters/{sorting}/title", {"title": "Sorting  algorithms"})
    ada.post(f"/chapters/{graphs}/move", {"direction": "up"})
    assert chapter_titles(course_id) == ["Intro", "Graphs", "Sorting algorithms", "Review"]
    ada.post(f"/chapters/{intro}/move", {"direction": "up"})  # already first: nothing moves
    fragment = ada.post(f"/courses/{course_id}/chapters/order",
                        {"chapter": [str(i) for i in (review, intro, sorting, graphs)]}).get_data(as_text=True)
    assert chapter_titles(course_id) == ["Review", "Intro", "Sorting algorithms", "Graphs"]
    assert fragment.index("Review") < fragment.index("Intro")
    ada.post(f"/chapters/{intro}/delete")
    assert chapter_titles(course_id) == ["Review", "Sorting algorithms", "Graphs"]
    assert positions(course_id) == [1, 2, 3]


def test_an_order_that_is_not_the_courses_chapters_is_refused(ada):
    course_id = new_course(ada)
    for title in ("A", "B"):
        ada.post(f"/courses/{course_id}/chapters", {"title": title})
    a, b = chapter_ids(course_id)
    answer = ada.post(f"/courses/{course_id}/chapters/order", {"chapter": [str(a)]})
    assert answer.status_code == 422 and "reload" in answer.get_data(as_text=True)
    assert ada.post(f"/courses/{course_id}/chapters/order", {"chapter": ["x"]}).status_code == 400
    assert chapter_titles(course_id) == ["A", "B"]


@pytest.mark.both_databases
def test_concurrent_additions_never_share_a_position(ada):
    course_id = new_course(ada)
    errors = []

    def add(number):
        answer = ada.post(f"/courses/{course_id}/chapters", {"title": f"Chapter {number}"})
        if answer.status_code != 200:
            errors.append(answer.status_code)

    threads = [threading.Thread(target=add, args=(number,)) for number in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and positions(course_id) == list(range(1, 11))


def test_another_instructors_courses_and_chapters_answer_404(ada, ben, admin):
    course_id = new_course(ada)
    ada.post(f"/courses/{course_id}/chapters", {"title": "Mine"})
    [chapter_id] = chapter_ids(course_id)
    assert ben.get(f"/courses/{course_id}/edit").status_code == 404
    for url, data in ((f"/courses/{course_id}/title", {"title": "Taken"}),
                      (f"/courses/{course_id}/chapters", {"title": "Theirs"}),
                      (f"/courses/{course_id}/chapters/order", {"chapter": [str(chapter_id)]}),
                      (f"/chapters/{chapter_id}/title", {"title": "Taken"}),
                      (f"/chapters/{chapter_id}/move", {"direction": "down"}),
                      (f"/chapters/{chapter_id}/delete", {})):
        assert ben.post(url, data).status_code == 404, url
    assert "Algorithms" not in ben.get("/courses").get_data(as_text=True)
    assert chapter_titles(course_id) == ["Mine"]
    assert db.session.get(Course, course_id).title == "Algorithms"
    assert admin.get(f"/courses/{course_id}/edit").status_code == 200


def test_markup_in_titles_is_escaped(ada):
    course_id = new_course(ada, "<script>alert(1)</script>")
    ada.post(f"/courses/{course_id}/chapters", {"title": "<img src=x onerror=alert(2)>"})
    for url in ("/courses", f"/courses/{course_id}/edit"):
        html = ada.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html


def test_the_editor_builds_each_chapters_addresses_as_the_routes_have_them(ada, app):
    """The editor writes a chapter's URLs from one prefix per answer (not url_for per chapter): each is
    the address of its route."""
    from flask import url_for

    course_id = new_course(ada)
    ada.post(f"/courses/{course_id}/chapters", {"title": "Week 1"})
    [chapter_id] = chapter_ids(course_id)
    editor = ada.get(f"/courses/{course_id}/edit").get_data(as_text=True)
    with app.test_request_context():
        expected = [url_for(endpoint, chapter_id=chapter_id) for endpoint in (
            "courses.retitle_chapter", "courses.move_chapter", "courses.remove_chapter", "courses.order_items",
            "courses.link", "courses.picker")] + [url_for("upload.upload_files")]
    missing = [url for url in expected if f'"{url}"' not in editor]
    assert not missing, missing
