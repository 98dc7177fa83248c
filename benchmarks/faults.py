"""Time to recover from each fault: the fault suite (tests/faults) run on its scaled-out set with the
maintenance round every INTERVAL seconds (BULK_STALE_SECONDS the same), `rounds` times. Each fault's
figure is the time from its end until the interrupted work was taken up again ("resumed", where work
was interrupted) and until everything was finished with rows and bucket in agreement ("recovered").
Target: taken up again within 2 × MAINTENANCE_INTERVAL."""
import json
import os
import subprocess
import sys

from .report import Check, median
from .services import PROJECT_ROOT

INTERVAL = 5


def run(workspace, report, rounds, interval=INTERVAL):
    folder = workspace.path("faults")
    runs = []
    for number in range(1, rounds + 1):
        log = folder / f"recoveries-{number}.json"
        env = dict(os.environ, FAULT_RECOVERY_LOG=str(log), FAULT_MAINTENANCE_INTERVAL=str(interval))
        done = subprocess.run([sys.executable, "-m", "pytest", "-m", "faults", "-q", "-p", "no:cacheprovider",
                               "tests/faults"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0 or not log.exists():
            kept = PROJECT_ROOT / "benchmarks" / "results" / f"faults-round-{number}-failed.log"
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_text(done.stdout + done.stderr)
            report.note(f"fault suite round {number} failed (whole output: {kept}):\n{done.stdout[-3000:]}")
            return
        runs.append(json.loads(log.read_text())["recoveries"])
        print(f"  round {number}/{rounds}: " + "; ".join(
            f"{fault} {times.get('resumed', times['recovered']):.1f} s" for fault, times in runs[-1].items()), flush=True)
    report.details["faults"] = {"maintenance_interval": interval, "runs": runs}
    for fault in runs[0]:
        recovered = [run_[fault]["recovered"] for run_ in runs]
        resumed = [run_[fault]["resumed"] for run_ in runs if "resumed" in run_[fault]]
        first = resumed or recovered
        text = (f"taken up again after median {median(resumed):.1f} s (worst {max(resumed):.1f} s), all done after "
                f"{median(recovered):.1f} s" if resumed else
                f"recovered after median {median(recovered):.1f} s (worst {max(recovered):.1f} s)")
        report.add(Check(f"recovery from {fault} (MAINTENANCE_INTERVAL {interval} s)",
                         f"{text}: {max(first) / interval:.2f} × the interval at worst",
                         f"≤ 2 × {interval} s", max(first) <= 2 * interval, {"recovered": recovered, "resumed": resumed}))
