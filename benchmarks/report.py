"""Checks against targets: printed as they are made, summarised as a markdown table, saved as JSON."""
import json
import math
import os
import platform
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def percentile(values, fraction):
    """Nearest-rank percentile: the value that `fraction` of the samples are at or below."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(values):
    return statistics.median(values)


@dataclass
class Check:
    """One measured figure and its target. `passed` is None for figures without a target."""

    name: str
    measured: str
    target: str = ""
    passed: bool | None = None
    data: dict = field(default_factory=dict)

    @property
    def verdict(self):
        return {True: "PASS", False: "MISS", None: "info"}[self.passed]


class Report:
    """Collects every check and note of a run; print_summary() and save() end it."""

    def __init__(self, options):
        self.options = options
        self.started = datetime.now(timezone.utc)
        self.load_at_start = os.getloadavg()[0]  # other work on the machine shows up in the p95s
        self.checks = []
        self.notes = []
        self.details = {}

    def section(self, title):
        print(f"\n== {title} ==", flush=True)

    def add(self, check):
        self.checks.append(check)
        target = f"  [target {check.target}]" if check.target else ""
        print(f"  {check.verdict:4}  {check.name}: {check.measured}{target}", flush=True)
        return check

    def note(self, text):
        """Something the reader must know that is not a figure: a skipped part, an app bug found."""
        self.notes.append(text)
        print(f"  NOTE  {text}", flush=True)

    def markdown(self):
        lines = ["| check | measured | target | result |", "| --- | --- | --- | --- |"]
        for check in self.checks:
            lines.append(f"| {check.name} | {check.measured} | {check.target or '—'} | {check.verdict} |")
        missed = sum(check.passed is False for check in self.checks)
        passed = sum(check.passed is True for check in self.checks)
        lines.append("")
        lines.append(f"{passed} passed, {missed} missed; took {self.elapsed_text()} on "
                     f"{platform.machine()} ({_cpu_count()} CPUs), Python {platform.python_version()}; "
                     f"1-minute load average {self.load_at_start:.1f} at the start, "
                     f"{os.getloadavg()[0]:.1f} at the end.")
        lines.extend(f"- {note}" for note in self.notes)
        return "\n".join(lines)

    def elapsed_text(self):
        seconds = (datetime.now(timezone.utc) - self.started).total_seconds()
        return f"{int(seconds // 60)} min {seconds % 60:.0f} s"

    def print_summary(self):
        print("\n== Summary ==\n")
        print(self.markdown(), flush=True)

    def save(self):
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"bench-{self.started.strftime('%Y%m%dT%H%M%SZ')}.json"
        body = {"started": self.started.isoformat(), "elapsed": self.elapsed_text(), "options": self.options,
                "machine": {"platform": platform.platform(), "cpus": _cpu_count(),
                            "python": platform.python_version(), "load_at_start": self.load_at_start,
                            "load_at_end": os.getloadavg()[0]},
                "checks": [asdict(check) | {"verdict": check.verdict} for check in self.checks],
                "notes": self.notes, "details": self.details}
        path.write_text(json.dumps(body, indent=2, default=str))
        print(f"\nResults written to {path}", flush=True)
        return path


def _cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
