"""A resumable (tus) upload of the big file through gunicorn, cut off at half-way and resumed:
the bytes the client sends in all, against the file's size (the part that arrived before the cut
must not be sent again)."""
import base64
import socket
import time
from urllib.parse import urlsplit

from .ingest import UploadServer
from .payload import size_text
from .report import Check

MAX_SENT_RATIO = 1.05
BLOCK = 1024 * 1024


def _cut_patch(url, headers, payload, size, stop_after):
    """PATCH the whole file from offset 0 over a raw socket, and drop the connection after
    `stop_after` bytes of body, as a network does; returns the body bytes sent."""
    parts = urlsplit(url)
    head = [f"PATCH {parts.path} HTTP/1.1", f"Host: {parts.netloc}", "Upload-Offset: 0",
            "Content-Type: application/offset+octet-stream", f"Content-Length: {size}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    sent = 0
    with socket.create_connection((parts.hostname, parts.port)) as connection, open(payload, "rb") as source:
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        while sent < stop_after:
            block = source.read(min(BLOCK, stop_after - sent))
            connection.sendall(block)
            sent += len(block)
        connection.shutdown(socket.SHUT_RDWR)
    return sent


def run(workspace, payload, report):
    folder = workspace.path("resumable")
    size = payload.stat().st_size
    with UploadServer(folder, workspace.redis_url) as server:
        session = server.logged_in_session()
        tus = {"Tus-Resumable": "1.0.0", "X-CSRFToken": session.csrf_token}
        name = base64.b64encode(payload.name.encode()).decode()
        created = session.post(server.url + "/uploads/", headers={**tus, "Upload-Length": str(size),
                                                                   "Upload-Metadata": f"filename {name}"})
        if created.status_code != 201:
            raise RuntimeError(f"tus creation answered {created.status_code}: {created.text[:300]}")
        url = created.headers["Location"]
        cookie = "; ".join(f"{key}={value}" for key, value in session.cookies.items())
        started = time.perf_counter()
        first = _cut_patch(url, {**tus, "Cookie": cookie}, payload, size, size // 2)
        offset = None
        for _ in range(100):  # the server finishes writing what arrived, then commits the offset
            offset = int(session.head(url, headers=tus).headers["Upload-Offset"])
            if offset >= first:
                break
            time.sleep(0.1)
        with open(payload, "rb") as source:
            source.seek(offset)
            answer = session.patch(url, data=source, headers={**tus, "Upload-Offset": str(offset),
                                                              "Content-Type": "application/offset+octet-stream"})
        seconds = time.perf_counter() - started
        if answer.status_code != 204 or int(answer.headers["Upload-Offset"]) != size:
            raise RuntimeError(f"the resumed PATCH answered {answer.status_code}: {answer.text[:300]}")
    sent = first + (size - offset)
    print(f"  cut after {first / 2**20:,.0f} MiB; the server had {offset / 2**20:,.0f} MiB; "
          f"{sent / 2**20:,.0f} MiB sent in all, {seconds:.1f} s", flush=True)
    report.details["resumable"] = {"size": size, "sent_before_cut": first, "server_offset": offset, "sent": sent,
                                   "seconds": seconds}
    report.add(Check(f"tus upload of {size_text(size)} cut at 50% and resumed: bytes sent",
                     f"{sent / 2**30:.3f} GiB ({sent / size:.3f} × the file; server kept {offset / first:.1%} "
                     f"of the bytes before the cut)",
                     f"≤ {MAX_SENT_RATIO} × the file", sent <= MAX_SENT_RATIO * size, {"ratio": sent / size}))
