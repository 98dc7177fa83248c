"""Evidence for a missed grid target: the SQL statements of one request with their times and the
database's plans for the slow ones, and where the rest of the request's time goes (cProfile)."""
import cProfile
import pstats
import re
import time
from pathlib import Path

from .services import PROJECT_ROOT

# Library calls worth naming in a profile: URL building, signing, size/date formatting, SQL, rendering.
LIBRARY_HOT_SPOTS = {"url_for", "dumps", "naturalsize", "naturaltime", "naturaldate", "escape", "render",
                     "execute", "_load_for_path"}
# PostgreSQL plan detail left off the console (the JSON keeps every line).
PLAN_DETAIL = re.compile(r"^\s*(Buffers|Planning|Planning Time|Batches|Buckets|Heap Fetches|Sort Method|Hash Cond|"
                         r"Group Key|Memory Usage|Worker)\b")


def explain_request(request, recorder, engine, dialect, title):
    """One request's statements (slowest first) with plans for those that dominate, plus a profile."""
    recorder.reset(keep=True)
    started = time.perf_counter()
    request()
    total_ms = (time.perf_counter() - started) * 1000
    statements = sorted(recorder.kept, key=lambda kept: -kept[2])
    recorder.reset()
    sql_ms = sum(elapsed for _statement, _parameters, elapsed in statements) * 1000
    found = []
    with engine.connect() as connection:
        for statement, parameters, elapsed in statements:
            ms = elapsed * 1000
            dominant = ms >= 2 and ms >= 0.2 * sql_ms
            found.append({"ms": ms, "sql": " ".join(statement.split()), "parameters": str(parameters),
                          "plan": query_plan(connection, dialect, statement, parameters) if dominant else []})
    return {"title": title, "request_ms": total_ms, "sql_ms": sql_ms, "statements": found,
            "profile": profile_hot_spots(request)}


def console_lines(evidence):
    lines = [f"  -- {evidence['title']}: one request {evidence['request_ms']:.1f} ms, "
             f"{len(evidence['statements'])} statements {evidence['sql_ms']:.1f} ms --"]
    for statement in evidence["statements"]:
        lines.append(f"  {statement['ms']:7.2f} ms  {readable_sql(statement['sql'])}")
        lines.extend(f"      | {_cut(line.strip(), 200)}" for line in statement["plan"]
                     if not PLAN_DETAIL.match(line))
    lines.append("  profile, ms per request (cumulative, profiler overhead included):")
    lines.extend(f"    {ms:7.1f}  {where}" for ms, where in evidence["profile"][:8])
    return lines


def readable_sql(sql, limit=240):
    """The SELECT list and long IN lists elided: what is filtered and sorted is what matters."""
    sql = re.sub(r"^SELECT (?=.{60,}? FROM)(.*?) FROM", lambda m: "SELECT … FROM" if "," in m[1] else m[0], sql)
    sql = re.sub(r"IN \(((?:[^()]|\([^()]*\))*)\)",
                 lambda m: f"IN (…{m[1].count(',') + 1} values)" if m[1].count(",") > 3 else m[0], sql)
    return _cut(sql, limit)


def _cut(text, limit):
    return text if len(text) <= limit else text[:limit] + "…"


def query_plan(connection, dialect, statement, parameters):
    if dialect == "postgresql":
        rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        return [row[0] for row in rows]
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    return [row[3] for row in rows]


def profile_hot_spots(request, repeat=10, limit=14):
    """The project's own functions and templates, and the library calls they spend most in."""
    profile = cProfile.Profile()
    profile.runcall(lambda: [request() for _ in range(repeat)])
    hot_spots = []
    # stats: (file, line, function) -> (calls, primitive calls, own time, cumulative time, callers)
    for (filename, line, function), (*_counts, cumulative, _callers) in pstats.Stats(profile).stats.items():
        path = Path(filename)
        if PROJECT_ROOT in path.parents and not {".venv", "benchmarks"} & set(path.parts):
            where = f"{path.relative_to(PROJECT_ROOT)}:{line} {function}"
        elif function in LIBRARY_HOT_SPOTS:
            where = f"{function} ({path.parent.name}/{path.name})"
        else:
            continue
        hot_spots.append((cumulative * 1000 / repeat, where))
    return sorted(hot_spots, reverse=True)[:limit]
