"""Live progress over the websocket: real server, real Redis pub/sub, real worker."""
import threading

import pytest
import requests
import simple_websocket

from helpers import PASSWORD, run_jobs


def session_for(host, email):
    import re
    session = requests.Session()
    page = session.get(f"http://{host}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    session.post(f"http://{host}/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    session.headers["X-CSRFToken"] = re.search(r'"X-CSRFToken": "([^"]+)"', session.get(f"http://{host}/media").text).group(1)
    return session


def connect(host, session, origin=None):
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    return simple_websocket.Client.connect(f"ws://{host}/ws/progress", headers={
        "Cookie": cookie, "Origin": origin or f"http://{host}"})


def receive_until(ws, text, limit=50):
    received = []
    for _ in range(limit):
        message = ws.receive(timeout=5)
        if message is None:
            break
        received.append(message)
        if text in message:
            return received
    raise AssertionError(f"{text!r} never arrived; got {received}")


def upload(host, session, name, content):
    from urllib.parse import quote
    return session.post(f"http://{host}/media/upload", data=content, headers={
        "X-Filename": quote(name), "Content-Type": "application/octet-stream", "X-Requested-With": "XMLHttpRequest"})


def test_progress_fragments_stream_until_ready_and_carry_the_card(live, samples):
    app, host = live
    session = session_for(host, "ada@example.com")
    ws = connect(host, session)
    assert upload(host, session, "clip.webm", samples.video_bytes(seconds=1)).status_code == 201
    run_jobs(app)
    messages = receive_until(ws, 'data-status="succeeded"')
    assert any("Transferring to storage" in m or "Reading media details" in m for m in messages)
    assert 'hx-swap-oob="true"' in messages[-1] and 'id="media-1"' in messages[-1] and "Ready" in messages[-1]
    ws.close()


def test_reconnecting_replays_the_state_of_recent_operations(live, samples):
    app, host = live
    session = session_for(host, "ada@example.com")
    upload(host, session, "photo.png", samples.png_bytes())
    run_jobs(app)
    ws = connect(host, session)
    first = ws.receive(timeout=5)
    assert 'id="op-1"' in first and 'data-status="succeeded"' in first
    ws.close()


def test_events_reach_only_their_owner(live, samples):
    app, host = live
    ada, ben = session_for(host, "ada@example.com"), session_for(host, "ben@example.com")
    ben_ws = connect(host, ben)
    upload(host, ada, "adas.png", samples.png_bytes())
    run_jobs(app)
    assert ben_ws.receive(timeout=1.5) is None
    ben_ws.close()


def test_script_in_a_name_arrives_escaped(live, samples):
    app, host = live
    session = session_for(host, "ada@example.com")
    ws = connect(host, session)
    upload(host, session, "<img src=x onerror=alert(1)>.png", samples.png_bytes())
    run_jobs(app)
    messages = receive_until(ws, 'data-status="succeeded"')
    assert all("<img src=x" not in m for m in messages) and "&lt;img src=x onerror=alert(1)&gt;.png" in messages[-1]
    ws.close()


def test_strangers_and_other_origins_cannot_connect(live):
    _app, host = live
    with pytest.raises(simple_websocket.ConnectionError):
        simple_websocket.Client.connect(f"ws://{host}/ws/progress")
    session = session_for(host, "ada@example.com")
    with pytest.raises(simple_websocket.ConnectionError):
        connect(host, session, origin="http://evil.example")
    port = int(host.rsplit(":", 1)[1])
    for origin in (f"http://127.0.0.1:{port + 1}", f"https://127.0.0.1:{port}", f"http://localhost:{port}"):
        with pytest.raises(simple_websocket.ConnectionError):  # another port or scheme of the same host
            connect(host, session, origin=origin)
    connect(host, session).close()


def test_polling_fallback_renders_the_same_fragments(live, samples):
    app, host = live
    session = session_for(host, "ada@example.com")
    upload(host, session, "photo.png", samples.png_bytes())
    queued = session.get(f"http://{host}/operations/active").text
    assert 'id="op-1"' in queued and "waiting for a worker" in queued
    run_jobs(app)
    done = session.get(f"http://{host}/operations/active").text
    assert 'data-status="succeeded"' in done and 'id="media-1"' in done


def test_progress_events_are_throttled_to_ten_per_second(sqlite_app, monkeypatch):
    from mediamgr.progress import publisher
    from mediamgr.progress.models import Operation

    sent = []
    monkeypatch.setattr(publisher, "_send", lambda client, namespace, user_id, event: sent.append(event))
    monkeypatch.setitem(sqlite_app.config, "PROGRESS_MIN_INTERVAL", publisher.MIN_INTERVAL_SECONDS)  # the default
    reporter = publisher.ProgressReporter(Operation(id=1, owner_id=1, kind="upload", title="x", status="running",
                                                    stage="transferring", total=100, processed=0, failed=0))
    import time
    start = time.monotonic()
    while time.monotonic() - start < 0.5:
        reporter.report(must_deliver=False, processed=1)
    assert 4 <= len(sent) <= 6


def test_progress_can_be_reported_from_a_transfers_own_threads(sqlite_app):
    """boto3 calls the progress callback on its worker threads, which have no app context."""

    from mediamgr.progress import publisher
    from mediamgr.progress.models import Operation

    operation = Operation(id=42, owner_id=1, kind="upload", title="x", status="running", stage="transferring",
                          total=100, processed=0, failed=0)
    reporter = publisher.ProgressReporter(operation)
    errors = []

    def transfer_thread():
        try:
            reporter.report(processed=50)
        except Exception as error:  # the assertion below names it
            errors.append(error)

    thread = threading.Thread(target=transfer_thread)
    thread.start()
    thread.join()
    assert errors == []
    assert publisher.latest_states([operation])[42]["processed"] == 50


def test_an_open_socket_ends_when_its_session_does(live, monkeypatch):
    from mediamgr.progress import routes

    monkeypatch.setattr(routes, "SESSION_CHECK_SECONDS", 0.5)
    _app, host = live
    session = session_for(host, "ada@example.com")
    ws = connect(host, session)
    session.post(f"http://{host}/logout")
    with pytest.raises(simple_websocket.ConnectionClosed):
        for _ in range(10):
            ws.receive(timeout=1)
