"""Open progress sockets never take the page process's threads: they live in the websocket process
(gunicorn's gevent worker, mediamgr/gunicorn_ws_conf.py), where each is a greenlet. With the page
process down to 4 threads and 24 sockets open on the websocket process, pages still answer at once
and a new socket still connects. Real gunicorn processes, real Redis pub/sub."""
import os
import re
import signal
import time

import requests
import simple_websocket

from helpers import free_port, start_web

USERS = ("ada@example.com", "ben@example.com", "cy@example.com")


def signed_in(url, email):
    session = requests.Session()
    page = session.get(f"{url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(f"{url}/login", data={"email": email, "password": "correct-horse-battery",
                                                "csrf_token": token}, timeout=10)
    assert answer.status_code == 200 and "Media library" in answer.text, answer.text[:500]
    return session


def test_many_open_sockets_leave_the_page_threads_free(app, tmp_path):
    from mediamgr.cli import ensure_user
    for email in USERS[2:]:
        ensure_user(email, "correct-horse-battery", "Cy", "instructor")
    web_port, ws_port = free_port(), free_port()
    web_url, ws_url = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{ws_port}"
    shared = {"SECRET_KEY": app.config["SECRET_KEY"], "ALLOWED_ORIGINS": web_url,
              "PROGRESS_SOCKET_URL": f"ws://127.0.0.1:{ws_port}/ws/progress"}
    web, _ = start_web(app, tmp_path / "web.log", port=web_port, WEB_THREADS="4", **shared)
    ws, _ = start_web(app, tmp_path / "ws.log", port=ws_port, config="mediamgr/gunicorn_ws_conf.py", **shared)
    sockets = []
    try:
        sessions = [signed_in(web_url, email) for email in USERS]
        page = sessions[0].get(f"{web_url}/media", timeout=10).text
        assert f'ws-connect="{ws_url.replace("http", "ws")}/ws/progress"' in page
        for session in sessions:
            cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
            for _ in range(8):
                sockets.append(simple_websocket.Client.connect(
                    f"{ws_url.replace('http', 'ws')}/ws/progress", headers={"Cookie": cookie, "Origin": web_url}))
        time.sleep(0.5)
        assert all(socket.connected for socket in sockets)
        started = time.monotonic()
        for _ in range(10):
            assert sessions[1].get(f"{web_url}/media", timeout=5).status_code == 200
        assert time.monotonic() - started < 5
    finally:
        for socket in sockets:
            socket.close()
        for process in (web, ws):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def test_the_websocket_process_lifts_a_low_file_descriptor_limit():
    """Two descriptors per socket: with the usual soft limit of 1,024, WS_CONNECTIONS=4000 sockets
    would fail near 500 ("Too many open files"). Loading the settings raises it towards the hard limit."""
    import subprocess
    import sys
    code = ("import resource; soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE); "
            "resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard)); "
            "import runpy; runpy.run_path('mediamgr/gunicorn_ws_conf.py'); "
            "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "WS_CONNECTIONS": "4000"})
    assert done.returncode == 0, done.stderr
    soft, hard = (int(value) for value in done.stdout.split())
    assert soft == (8256 if hard == -1 else min(8256, hard))  # -1: RLIM_INFINITY
