"""A search's words as conditions on the library's rows, and which of them an index answers.

Each word must appear in a file's search text (name, tags, category, description; lowercased). A word
of three characters or more can be found through a trigram index: SQLite's FTS5 table `media_search`
(migration 0003), PostgreSQL's pg_trgm index keyed by owner (migration 0020). The index is the quick
way to a rare word and the slow way to a common one (it collects every match before the first page
can be cut), where scanning the library in page order finds a common word at once. So each database
is told which words to look up:

- SQLite: the index is asked which rows hold all the words together, and how many (capped); few
  enough, and the rows come from it, else from a scan. The count of a search ("1,000+ files")
  takes the index for more words than the page does: counting by scan means reading until a thousand
  have matched.
- PostgreSQL: its planner weighs one word well, but multiplies the odds of several (so "week 12",
  two words that come together, looks rare, and the index reads every "week" of the library). With
  several words, each is weighed alone (EXPLAIN, no rows read): if even the rarest is common, no word
  may use the index and the library is read in page order; if one is rare, they all may, and the
  index intersects their trigrams before a row is read (the rows read are at most the rarest word's).
"""
import json

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy import func

from ..extensions import db
from .models import MediaFile

MIN_INDEXED_LENGTH = 3  # a trigram index finds nothing shorter
PAGE_INDEX_HITS = 2000  # on SQLite, fewer rows than this holding the words: the page reads them from the index
COUNT_INDEX_HITS = 15_000  # fewer than this: the count does too (on PostgreSQL: a word this rare opens the index)

# SQLite's FTS5 trigram index: rowids of rows whose search text holds a phrase.
_media_search = sa.table("media_search", sa.column("rowid"), sa.column("media_search"))


def search_words(text):
    """The distinct lowercased words of a search, in order."""
    return list(dict.fromkeys(text.lower().split()))


def with_search(query, words, counting=False, also=()):
    """`query` narrowed to rows holding every word, or whose id is in `also` (files found another
    way: by their captions); `counting`: for a capped count of them."""
    holding = _holding(query, words, counting)
    if not also:
        return query.where(*holding)
    listed = _listed(also) if db.session.get_bind().dialect.name == "sqlite" else also
    return query.where(sa.or_(sa.and_(*holding), MediaFile.id.in_(listed)))


def _holding(query, words, counting):
    indexable = [word for word in words if len(word) >= MIN_INDEXED_LENGTH]
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite" and indexable:
        return _sqlite_search(words, indexable, counting)
    if dialect == "postgresql" and len(words) > 1:
        indexed = _has_rare_word(query, indexable)
        return [_like(word, indexed=indexed and word in indexable) for word in words]
    return [_like(word) for word in words]


def _sqlite_search(words, indexable, counting):
    rowids, hits = _sqlite_matches(indexable, counting)
    others = [_like(word) for word in words if word not in indexable]
    if rowids is not None:  # few: the rows the index found, read once per request
        return [MediaFile.id.in_(_listed(rowids)), *others]
    if counting and hits < COUNT_INDEX_HITS:
        return [MediaFile.id.in_(_phrase_rowids(indexable)), *others]
    return [_like(word) for word in words]


def _sqlite_matches(indexable, counting):
    """(The rowids of the rows holding all the words if fewer than PAGE_INDEX_HITS, else None; how
    many rows hold them, counted up to COUNT_INDEX_HITS when `counting`), in one statement. Within a
    request the answer serves again (the page after its count: the same words)."""
    memo = g.setdefault("search_matches", {}) if has_request_context() else {}
    found = memo.get(tuple(indexable))
    if found is None or (counting and not found[0]):
        few = _phrase_rowids(indexable).limit(PAGE_INDEX_HITS).subquery()
        hits = sa.select(func.count()).select_from(_phrase_rowids(indexable).limit(COUNT_INDEX_HITS).subquery())
        rows = db.session.execute(sa.select(few.c.rowid, hits.scalar_subquery() if counting else sa.null())).all()
        rowids = [row[0] for row in rows]
        total = (rows[0][1] if rows else 0) if counting else len(rowids)
        found = (counting, rowids if len(rowids) < PAGE_INDEX_HITS else None, total)
        memo[tuple(indexable)] = found
    return found[1], found[2]


def _listed(rowids):
    """The ids as one JSON parameter read by json_each: a thousand ids as a thousand bound parameters
    cost more to send and parse than the index took to find them."""
    listed = func.json_each(json.dumps(rowids)).table_valued("value")
    return sa.select(listed.c.value)


def _phrase_rowids(words):
    """Rows whose search text holds every one of `words` (each a phrase: a substring)."""
    phrases = " AND ".join('"' + word.replace('"', '""') + '"' for word in words)
    return sa.select(_media_search.c.rowid).where(_media_search.c.media_search.op("MATCH")(phrases))


def _has_rare_word(query, words):
    """Whether the planner expects one of `words` in fewer than COUNT_INDEX_HITS of the query's rows
    (else each word is checked on rows read in page order)."""
    if not words:
        return False
    ids = query.with_only_columns(MediaFile.id).order_by(None)
    return min(_estimated_rows([ids.where(_like(word)) for word in words])) < COUNT_INDEX_HITS


def _estimated_rows(branches):
    """The planner's estimate of each query's rows, from one EXPLAIN of them all (UNION ALL: one child
    plan each), asked once per request: the count and the page ask the same."""
    statement = sa.union_all(*branches) if len(branches) > 1 else branches[0]
    compiled = statement.compile(dialect=db.session.get_bind().dialect)
    memo = g.setdefault("search_estimates", {}) if has_request_context() else {}
    key = (str(compiled), repr(sorted(compiled.params.items(), key=str)))
    if key not in memo:
        plan = db.session.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
        root = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
        memo[key] = [child["Plan Rows"] for child in root["Plans"]] if len(branches) > 1 else [root["Plan Rows"]]
    return memo[key]


def _like(word, indexed=True):
    """Rows whose search text contains `word`. Not `indexed`: written so that PostgreSQL's trigram
    index cannot answer it (strpos), and its planner, without odds for it, expects many rows and reads
    them in page order."""
    if not indexed:
        return func.strpos(MediaFile.search_text, word) > 0
    return MediaFile.search_text.like(f"%{escape_like(word)}%", escape="\\")


def escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
