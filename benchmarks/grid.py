"""Timings of the library's results fragment (GET /media/grid) for the seeded instructor, through
the Flask test client: server time per request and SQL queries per request, for the first page,
a deep keyset page, searches of names and of descriptions, a tag and a category filter, a type
filter sorted by size, the list view's duration and type sorts, and the usage filters and sort (the
seeded courses link files: see courses.py)."""
import html
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import event, text

from mediamgr import create_app
from mediamgr.extensions import db

from .dataset import MAIN_EMAIL
from .evidence import console_lines, explain_request
from .report import Check, median, percentile
from .seed import PASSWORD

GRID_P95_MS = 30
SEARCH_P95_MS = 50
DEEP_RATIO = 1.2
MAX_QUERIES = 5
DEEP_PAGES = 50
WARMUP_REQUESTS = 3
MIN_REQUESTS = 15
SCENARIO_BUDGET_SECONDS = 5.0
# Common to rare, and one that matches nothing (the whole library is read to say so).
SEARCH_WORDS = ("lecture", "sorting", "week 12", "dijkstra", "kubernetes")
# Words only descriptions hold (benchmarks/dataset.py DESCRIPTIONS): common, common, uncommon, rare;
# and one in a description joined with one in a name.
DESCRIPTION_SEARCHES = ("pseudocode", "derivation", "errata", "zeppelin", "errata recursion")
CATEGORY_FILTER = "Assessments"
TAG_FILTER = "midterm"
LOGIN_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
NEXT_PAGE = re.compile(r'hx-get="(/media/grid\?[^"]*cursor=[^"]*)"')
TOTAL = re.compile(r'class="results-summary"[^>]*>\s*([\d,]+\+?) files?')


@dataclass
class Scenario:
    key: str
    label: str
    args: dict
    target_ms: int
    rounds_p50: list = field(default_factory=list)
    rounds_p95: list = field(default_factory=list)
    rounds_sql_p50: list = field(default_factory=list)
    queries: set = field(default_factory=set)
    samples: list = field(default_factory=list)
    matches: str | None = None  # as the page says it: "359" or "1,000+"

    @property
    def p50(self):
        return median(self.rounds_p50)

    @property
    def p95(self):
        return median(self.rounds_p95)


class QueryRecorder:
    """Counts (and on request keeps) the SQL statements that reach the database driver."""

    def __init__(self, engine):
        self.count = 0
        self.seconds = 0.0
        self.kept = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self, keep=False):
        self.count, self.seconds, self.kept = 0, 0.0, [] if keep else None

    def _before(self, connection, _cursor, _statement, _parameters, _context, _executemany):
        self.count += 1
        connection.info["bench.started"] = time.perf_counter()

    def _after(self, connection, _cursor, statement, parameters, _context, _executemany):
        elapsed = time.perf_counter() - connection.info.pop("bench.started")
        self.seconds += elapsed
        if self.kept is not None:
            self.kept.append((statement, parameters, elapsed))


class GridBenchmark:
    """One database: log in once, then time every scenario in several interleaved rounds."""

    def __init__(self, config, db_label, dialect, rounds, requests, budget_seconds=SCENARIO_BUDGET_SECONDS):
        self.app = create_app(config)
        self.db_label, self.dialect = db_label, dialect
        self.rounds, self.requests, self.budget_seconds = rounds, requests, budget_seconds
        with self.app.app_context():
            self.engine = db.engine
        self.recorder = QueryRecorder(self.engine)
        # No app context is held here: each request builds and tears down its own, as in a server.
        self.client = self.app.test_client()

    def run(self, report):
        self._login()
        scenarios = self._scenarios()
        for round_number in range(1, self.rounds + 1):
            started = time.perf_counter()
            for scenario in scenarios:
                self._measure(scenario)
            print(f"  round {round_number}/{self.rounds} done in {time.perf_counter() - started:.1f} s", flush=True)
        checks = self._checks(scenarios)
        for check in checks:
            report.add(check)
        evidence = [self._evidence(scenario) for scenario, check in zip(scenarios, checks) if check.passed is False]
        report.details[f"grid_{self.dialect}"] = {"scenarios": [_scenario_data(s) for s in scenarios],
                                                  "evidence_for_misses": evidence}
        self.engine.dispose()

    def _evidence(self, scenario):
        found = explain_request(lambda: self._get(scenario.args), self.recorder, self.engine, self.dialect,
                                f"{scenario.label} · {self.db_label}")
        print("\n".join(console_lines(found)), flush=True)
        return found

    def _login(self):
        page = self.client.get("/login").get_data(as_text=True)
        token = LOGIN_TOKEN.search(page).group(1)
        answer = self.client.post("/login", data={"email": MAIN_EMAIL, "password": PASSWORD, "csrf_token": token})
        if answer.status_code != 302:
            raise RuntimeError(f"login failed with {answer.status_code}")

    def _get(self, args):
        return self.client.get("/media/grid?" + urlencode(args), headers={"HX-Request": "true"})

    def _scenarios(self):
        page, cursor = self._deep_cursor()
        scenarios = [Scenario("first", "grid first page", {}, GRID_P95_MS),
                     Scenario("deep", f"grid page {page} (keyset cursor)", {"cursor": cursor}, GRID_P95_MS)]
        scenarios += [Scenario(f"search:{word}", f"search “{word}”", {"q": word}, SEARCH_P95_MS)
                      for word in SEARCH_WORDS]
        scenarios += [Scenario(f"description:{words}", f"search description “{words}”", {"q": words}, SEARCH_P95_MS)
                      for words in DESCRIPTION_SEARCHES]
        scenarios.append(Scenario("tag", f"tag filter “{TAG_FILTER}”", {"tag": TAG_FILTER}, GRID_P95_MS))
        scenarios.append(Scenario("category", f"category filter “{CATEGORY_FILTER}”", {"category": CATEGORY_FILTER},
                                  GRID_P95_MS))
        scenarios.append(Scenario("longest", "sort=longest (list view)", {"sort": "longest", "view": "list"}, GRID_P95_MS))
        scenarios.append(Scenario("type_sort", "sort=type (list view)", {"sort": "type", "view": "list"}, GRID_P95_MS))
        scenarios.append(Scenario("type", "type=video&sort=largest", {"type": "video", "sort": "largest"},
                                  GRID_P95_MS))
        # Usage tracking: "Used in N" is on every card of every scenario; these filter and sort by it.
        scenarios.append(Scenario("used", "usage=used (files in courses)", {"usage": "used"}, GRID_P95_MS))
        scenarios.append(Scenario("most_used", "sort=most_used", {"sort": "most_used"}, GRID_P95_MS))
        with self.app.app_context():
            course_id = db.session.scalar(text("SELECT min(id) FROM courses"))
        if course_id:
            scenarios.append(Scenario("course", "course filter (2,500 files)", {"course": course_id}, GRID_P95_MS))
        for scenario in scenarios:
            if "cursor" not in scenario.args:
                found = TOTAL.search(self._get(scenario.args).get_data(as_text=True))
                scenario.matches = found.group(1) if found else "0"  # "1,000+" once counting stops
        return scenarios

    def _deep_cursor(self):
        """Follow the "Load more" links the way the page does, DEEP_PAGES pages in; returns the page
        number reached and its cursor."""
        body = self._get({}).get_data(as_text=True)
        page, url = 1, None
        while page <= DEEP_PAGES and (found := NEXT_PAGE.search(body)):  # a small --rows run has fewer pages
            url = html.unescape(found.group(1))
            body = self.client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
            page += 1
        if url is None:
            raise RuntimeError("the first page has no next-page link: is the library seeded?")
        return page, url.split("cursor=", 1)[1].split("&", 1)[0]

    def _measure(self, scenario):
        """Warm up, then time `requests` requests; a slow scenario stops at its time budget instead
        (at least MIN_REQUESTS), so a slow app still finishes the run in minutes."""
        budget_end = time.perf_counter() + self.budget_seconds if self.budget_seconds else float("inf")
        for _ in range(WARMUP_REQUESTS):
            self._get(scenario.args)
        samples, sql = [], []
        while len(samples) < self.requests and (len(samples) < MIN_REQUESTS or time.perf_counter() < budget_end):
            self.recorder.reset()
            started = time.perf_counter()
            response = self._get(scenario.args)
            samples.append(time.perf_counter() - started)
            sql.append(self.recorder.seconds)
            scenario.queries.add(self.recorder.count)
            if response.status_code != 200:
                raise RuntimeError(f"{scenario.label}: HTTP {response.status_code}")
        scenario.samples.append(len(samples))
        scenario.rounds_p50.append(percentile(samples, 0.50) * 1000)
        scenario.rounds_p95.append(percentile(samples, 0.95) * 1000)
        scenario.rounds_sql_p50.append(percentile(sql, 0.50) * 1000)

    def _checks(self, scenarios):
        checks = []
        for scenario in scenarios:
            matches = f" ({scenario.matches} files)" if scenario.matches is not None else ""
            fewer = min(scenario.samples) < self.requests
            sampled = f" · n={min(scenario.samples)}/round (time budget)" if fewer else ""
            checks.append(Check(
                f"{scenario.label}{matches} · {self.db_label}",
                f"p95 {scenario.p95:.1f} ms, p50 {scenario.p50:.1f} ms "
                f"(SQL p50 {median(scenario.rounds_sql_p50):.1f} ms)"
                f" · {max(scenario.queries)} queries{sampled}",
                f"p95 ≤ {scenario.target_ms} ms", scenario.p95 <= scenario.target_ms, _scenario_data(scenario)))
        first, deep = scenarios[0], scenarios[1]
        ratio = deep.p50 / first.p50
        checks.append(Check(f"deep page / first page · {self.db_label}",
                            f"{ratio:.2f} × (p50 {deep.p50:.1f} / {first.p50:.1f} ms)",
                            f"≤ {DEEP_RATIO} ×", ratio <= DEEP_RATIO, {"ratio": ratio}))
        worst = max(max(scenario.queries) for scenario in scenarios)
        checks.append(Check(f"SQL queries per grid request · {self.db_label}",
                            f"at most {worst} (" + ", ".join(f"{s.key} {max(s.queries)}" for s in scenarios) + ")",
                            f"≤ {MAX_QUERIES}", worst <= MAX_QUERIES, {"max": worst}))
        return checks


def _scenario_data(scenario):
    return {"key": scenario.key, "label": scenario.label, "args": scenario.args, "matches": scenario.matches,
            "p50_ms": scenario.p50, "p95_ms": scenario.p95, "rounds_p50_ms": scenario.rounds_p50,
            "rounds_p95_ms": scenario.rounds_p95, "rounds_sql_p50_ms": scenario.rounds_sql_p50,
            "queries": sorted(scenario.queries), "requests_per_round": scenario.samples,
            "target_p95_ms": scenario.target_ms}
