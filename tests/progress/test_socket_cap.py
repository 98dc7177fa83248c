"""One user's open progress sockets are capped (PROGRESS_SOCKETS_PER_USER): a new one closes the
oldest beyond the cap with code 1008, which the page's websocket extension does not reconnect (it
polls instead), so open tabs cannot take every web thread. Real server, real Redis pub/sub."""
import simple_websocket
import sqlalchemy as sa

from helpers import wait_for
from mediamgr.auth.models import User
from mediamgr.extensions import db, redis_connection
from test_websocket import connect, session_for


def closed(ws, seconds=5):
    try:
        while ws.receive(timeout=seconds) is not None:
            pass
    except simple_websocket.ConnectionClosed as closing:
        return closing.reason
    return None


def test_a_ninth_socket_closes_the_oldest_and_the_others_stay(live):
    app, host = live
    app.config["PROGRESS_SOCKETS_PER_USER"] = 8
    ada = session_for(host, "ada@example.com")
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == "ada@example.com"))
        key = f"{app.config['REDIS_NAMESPACE']}:sockets:{user_id}"
        client = redis_connection.client

    def opened(count):
        """Open a socket and wait until the server counts it: "oldest" is the order the server saw them
        in, and handlers of sockets opened back to back may count in out of order."""
        ws = connect(host, ada)
        wait_for(lambda: client.zcard(key) == count, 10, f"socket {count} to be counted")
        return ws

    sockets = [opened(count) for count in range(1, 9)]
    try:
        ninth = connect(host, ada)
        assert closed(sockets[0]) == 1008  # the oldest: its page falls back to polling
        ben = session_for(host, "ben@example.com")
        bens = connect(host, ben)  # another user's sockets are not counted with hers
        for ws in sockets[1:] + [ninth, bens]:
            assert ws.connected
        ada.post(f"http://{host}/courses", data={"title": "Physics"})  # still served: threads are free
        assert ada.get(f"http://{host}/healthz").status_code == 200
        bens.close()
    finally:
        for ws in sockets[1:]:
            ws.close()
