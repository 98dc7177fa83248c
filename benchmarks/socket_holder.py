"""A process of open tabs for the sockets benchmark (benchmarks/sockets.py): reads one JSON line from
stdin ({"url" of the websocket process, "cookies": [...], "probe_cookie"}), opens a progress socket per cookie (and
one more for the probe user), prints "open N refused M", then prints "frame <time> <text>" for every
frame the probe socket receives, until stdin closes; then it closes everything.

A process of its own so that 1,000 sockets' threads do not share a GIL with the timed requests."""
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from pathlib import Path

import simple_websocket

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import open_progress_socket  # noqa: E402  (the suite's page socket: one home)

OPENING_THREADS = 32


def main():
    settings = json.loads(sys.stdin.readline())
    url = settings["url"]
    opened, refused = [], 0
    with ThreadPoolExecutor(OPENING_THREADS) as pool:
        for result in pool.map(lambda cookie: _try(open_progress_socket, url, cookie), settings["cookies"]):
            if result is None:
                refused += 1
            else:
                opened.append(result)
    probe = open_progress_socket(url, settings["probe_cookie"]) if settings.get("probe_cookie") else None
    time.sleep(1)  # closes by the per-user cap arrive now
    still = sum(ws.connected for ws in opened)
    print(f"open {still} refused {refused + len(opened) - still}", flush=True)
    output = threading.Lock()

    def read_probe():
        while probe is not None:
            try:
                text = probe.receive(timeout=None)
            except simple_websocket.ConnectionClosed:
                return
            with output:
                print(f"frame {time.time():.6f} {' '.join(text.split())[:300]}", flush=True)

    threading.Thread(target=read_probe, daemon=True).start()
    sys.stdin.read()  # until the benchmark is done with us
    print(f"still open {sum(ws.connected for ws in opened)}", flush=True)
    for ws in opened + ([probe] if probe else []):
        if ws.connected:
            ws.close()


def _try(function, *args):
    try:
        return function(*args)
    except Exception:  # refused or closed at once
        return None


if __name__ == "__main__":
    main()
