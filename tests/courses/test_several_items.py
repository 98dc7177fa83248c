"""Several items or files at once: the editor's Copy to course… and its chapter dialog, the picker's
"Add it again?", and "Add to course…" from the library's selection; all scoped to one owner. Also
what each editor row shows: one actions menu, size and duration."""
import re

import pytest
import sqlalchemy as sa

from factories import course_with_chapters, link, make_files
from mediamgr.courses.models import ChapterItem
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile

from test_chapter_items import item_ids, items_of
from test_usage import usage


def chapter_options(dialog):
    return [int(found) for found in re.findall(r'<option value="(\d+)"', dialog)]


def test_the_choose_dialog_lists_this_courses_chapters_to_move_and_other_courses_to_copy(ada, ben):
    files = make_files("ada@example.com", 1)
    course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    _other, (elsewhere,) = course_with_chapters(ada, "Elsewhere")
    course_with_chapters(ben, "Ben's")
    link(ada, week1, files)
    [item] = item_ids(week1)
    move = ada.get(f"/courses/{course}/items/choose?action=move&item={item}", htmx=True).get_data(as_text=True)
    assert "Move 1 item to another chapter" in move and chapter_options(move) == [week1, week2]
    copy = ada.get(f"/courses/{course}/items/choose?action=copy&item={item}", htmx=True).get_data(as_text=True)
    assert chapter_options(copy) == [elsewhere]
    assert ada.get(f"/courses/{course}/items/choose?action=delete&item={item}").status_code == 400
    assert ada.get(f"/courses/{course}/items/choose?action=move&item=x").status_code == 400
    assert ben.get(f"/courses/{course}/items/choose?action=move&item={item}").status_code == 404


@pytest.mark.both_databases
def test_copy_to_another_course_keeps_the_titles_and_counts_the_links(ada, ben):
    files = make_files("ada@example.com", 2)
    course, (week1,) = course_with_chapters(ada, "Week 1")
    _other, (target,) = course_with_chapters(ada, "Target")
    _bens, (foreign,) = course_with_chapters(ben, "Ben's")
    link(ada, week1, files)
    a, b = item_ids(week1)
    ada.post(f"/items/{b}/title", {"title": "Lab"})
    answer = ada.post(f"/courses/{course}/items/copy", {"item": [str(b), str(a)], "chapter": str(target)})
    assert answer.status_code == 200 and "Copied 2 items" in answer.get_data(as_text=True)
    assert items_of(target) == [("file 00000", 1), ("Lab", 2)] and item_ids(week1) == [a, b]
    assert usage(*files) == [(2, 2), (2, 2)]
    assert ada.post(f"/courses/{course}/items/copy", {"item": [str(a)], "chapter": str(foreign)}).status_code == 404
    assert ada.post(f"/courses/{course}/items/copy", {"item": ["99999"], "chapter": str(target)}).status_code == 422
    assert ada.post(f"/courses/{course}/items/copy", {"chapter": str(target)}).status_code == 400


@pytest.mark.both_databases
def test_linking_a_file_the_chapter_has_asks_add_it_again(ada):
    first, second = make_files("ada@example.com", 2)
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, [first])
    asked = ada.post(f"/chapters/{week1}/items", {"media": [str(first), str(second)], "ask_again": "1"})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and asked.headers["HX-Retarget"] == "#again-slot"
    assert "“file 00000.pdf” is already in “Week 1”. Add it again?" in text and "Add only the other 1" in text
    assert len(item_ids(week1)) == 1
    ada.post(f"/chapters/{week1}/items", {"media": [str(first), str(second)], "ask_again": "1", "again": "skip"})
    assert [title for title, _ in items_of(week1)] == ["file 00000", "file 00001"]
    ada.post(f"/chapters/{week1}/items", {"media": [str(first)], "ask_again": "1", "again": "1"})
    assert [title for title, _ in items_of(week1)] == ["file 00000", "file 00001", "file 00000"]
    assert usage(first, second) == [(2, 2), (1, 1)]
    refused = ada.post(f"/chapters/{week1}/items", {"media": [str(first)], "ask_again": "1", "again": "skip"})
    assert refused.status_code == 409 and "nothing was added" in refused.get_data(as_text=True)


@pytest.mark.both_databases
def test_add_to_course_from_the_library_links_the_selection_at_the_end(ada, ben):
    files = make_files("ada@example.com", 3)
    [bens_file] = make_files("ben@example.com", 1)
    _course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    _bens, (foreign,) = course_with_chapters(ben, "Ben's")
    link(ada, week2, files[:1])
    dialog = ada.post("/media/add-to-course/dialog", {"ids": [str(files[2]), str(files[1])]}).get_data(as_text=True)
    assert "Add 2 files to a course" in dialog and chapter_options(dialog) == [week1, week2]
    assert 'name="ids" value="%d"' % files[2] in dialog
    answer = ada.post("/media/add-to-course", {"ids": [str(files[2]), str(files[1])], "chapter": str(week2)})
    assert answer.status_code == 200 and "Added 2 files to “Algorithms” › “Week 2”." in answer.get_data(as_text=True)
    assert "items-done" in answer.headers["HX-Trigger"]
    assert [title for title, _ in items_of(week2)] == ["file 00000", "file 00001", "file 00002"]
    assert usage(*files) == [(1, 1)] * 3
    assert ada.post("/media/add-to-course", {"ids": [str(files[0])], "chapter": str(foreign)}).status_code == 404
    assert ada.post("/media/add-to-course", {"ids": [str(bens_file)], "chapter": str(week1)}).status_code == 409
    assert ada.post("/media/add-to-course", {"ids": [str(files[0])], "chapter": "nope"}).status_code == 400
    assert ada.post("/media/add-to-course", {"ids": [], "chapter": str(week1)}).status_code == 400
    asked = ada.post("/media/add-to-course", {"ids": [str(files[0])], "chapter": str(week2), "ask_again": "1"})
    assert asked.headers["HX-Retarget"] == "#again-slot" and len(item_ids(week2)) == 3


def test_add_to_course_from_all_matching_files(ada):
    files = make_files("ada@example.com", 3, prefix="syllabus")
    make_files("ada@example.com", 2, prefix="other")
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    answer = ada.post("/media/add-to-course", {"all": "1", "q": "syllabus", "chapter": str(week1)})
    assert answer.status_code == 200
    assert db.session.scalars(sa.select(ChapterItem.media_id).where(ChapterItem.chapter_id == week1)
                              .order_by(ChapterItem.position)).all() == files


def test_each_row_has_one_actions_menu_and_shows_size_and_duration(ada):
    [media_id] = make_files("ada@example.com", 1)
    db.session.execute(sa.update(MediaFile).where(MediaFile.id == media_id)
                       .values(kind="video", size_bytes=3_400_000, duration_seconds=754))
    db.session.commit()
    course, (week1, _week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, [media_id])
    [item] = item_ids(week1)
    page = ada.get(f"/courses/{course}/edit").get_data(as_text=True)
    row = page[page.index(f'id="item-{item}"'):]
    row = row[:row.index("</li>")]
    assert "3.4 MB" in row and "12:34" in row
    # One menu button per row; its menu is made from the page's one template when opened, leaving out
    # what does not apply to this item (the only one of its chapter: neither Move up nor Move down).
    assert row.count('aria-haspopup="menu"') == 1 and 'role="menu"' not in row
    assert f'href="/items/{item}/move-menu"' in row  # without JavaScript: the item's page
    template = page[page.index('<template id="item-menu-template">'):]
    template = template[:template.index("</template>")]
    assert re.findall(r'role="menuitem"[^>]*>([^<]+)<', template) == [
        "Move up", "Move down", "Move to chapter…", "Remove from chapter"]
    assert re.findall(r'data-unless="(\w+)"', template) == ["first", "last", "single"]
    assert 'aria-label="Select “file 00000”"' in row
    # No button names itself differently from what it shows (axe's label-content-name-mismatch).
    editor = page[page.index('id="chapters"'):page.index('class="course-foot"')]
    for label, text in re.findall(r'<(?:button|a)[^>]*aria-label="([^"]*)"[^>]*>([^<]*)<', editor):
        assert text.strip() in label, (label, text)


def test_the_docked_library_panel_lists_the_owners_files_with_the_librarys_filters(ada, ben):
    make_files("ada@example.com", 2, prefix="syllabus")
    make_files("ada@example.com", 1, prefix="reading")
    make_files("ben@example.com", 1, prefix="syllabus of ben")
    course, (week1,) = course_with_chapters(ada, "Week 1")
    editor = ada.get(f"/courses/{course}/edit").get_data(as_text=True)
    assert f'hx-get="/courses/{course}/library"' in editor and f'data-link-url="/chapters/{week1}/items"' in editor
    panel = ada.get(f"/courses/{course}/library", htmx=True).get_data(as_text=True)
    assert panel.count('class="panel-file"') == 3 and 'name="q"' in panel and "of ben" not in panel
    found = ada.get(f"/courses/{course}/library/results?q=syllabus", htmx=True).get_data(as_text=True)
    assert found.count('class="panel-file"') == 2 and "2 files" in found
    assert ben.get(f"/courses/{course}/library", htmx=True).status_code == 404
    assert ada.get(f"/courses/{course}/library/results?sort=nonsense", htmx=True).status_code in (200, 400)
