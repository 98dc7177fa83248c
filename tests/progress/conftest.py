"""The progress tests' live server."""
import threading

import pytest
from werkzeug.serving import make_server

from helpers import PASSWORD


@pytest.fixture
def live(sqlite_app, tmp_path):
    """The app served over real HTTP (threaded, websockets work), as one of several web processes."""
    from mediamgr.cli import ensure_user

    ensure_user("ada@example.com", PASSWORD, "Ada", "instructor")
    ensure_user("ben@example.com", PASSWORD, "Ben", "instructor")
    server = make_server("127.0.0.1", 0, sqlite_app, threaded=True)
    # The page's origin, as PUBLIC_URL or ALLOWED_ORIGINS would name it (simple_websocket's client
    # leaves the port out of its Host header, so the server's own origin cannot stand in).
    sqlite_app.config["APP_ORIGINS"] = [f"http://127.0.0.1:{server.server_port}"]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sqlite_app, f"127.0.0.1:{server.server_port}"
    server.shutdown()
