"""A chunked upload (no Content-Length) over MAX_UPLOAD_BYTES gets its 413 and message: the server
reads (and throws away) the rest of the body rather than closing the connection on the client,
which would then see a reset instead of the answer. Over real HTTP, to a real gunicorn."""
import http.client
import os
import signal
from urllib.parse import urlsplit

from helpers import start_web

MiB = 1024**2


def send_chunked(url, path, headers, chunks):
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.putrequest("POST", path)
    for name, value in {**headers, "Transfer-Encoding": "chunked"}.items():
        connection.putheader(name, value)
    connection.endheaders()
    for chunk in chunks:
        connection.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    connection.send(b"0\r\n\r\n")
    answer = connection.getresponse()
    return answer.status, answer.read().decode()


def test_a_chunked_upload_over_the_limit_gets_413_not_a_reset(app, ada, samples, tmp_path):
    process, url = start_web(app, tmp_path / "web.log", MAX_UPLOAD_BYTES="1MiB", SECRET_KEY=app.config["SECRET_KEY"])
    try:
        cookie = ada.client.raw.get_cookie("session").value
        headers = {"Cookie": f"session={cookie}", "X-CSRFToken": ada.token, "X-Filename": "lecture.jpg",
                   "Content-Type": "application/octet-stream", "X-Requested-With": "XMLHttpRequest"}
        status, text = send_chunked(url, "/media/upload", headers,
                                    [samples.jpeg_bytes(64, 48)] + [b"\0" * (256 * 1024)] * 256)  # 64 MiB
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert status == 413, text
    assert "larger than the 1 MiB upload limit" in text
