"""Room on the staging disk. A new upload is refused before a byte is written when it would leave
less than STAGING_RESERVE_BYTES free, and a write that meets a full disk gives its bytes back:
either way the answer is 507 with OUT_OF_SPACE, and the disk is not left full for everyone else."""
import errno
import logging
import os

from flask import current_app
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
OUT_OF_SPACE = "The server is out of space for uploads right now."
NOTHING_KEPT = OUT_OF_SPACE + " Nothing of this file was kept; please try again later."
RESUME_LATER = OUT_OF_SPACE + " What arrived before is kept: resume the upload later."
_FULL = (errno.ENOSPC, errno.EDQUOT)


class OutOfSpace(HTTPException):
    code = 507
    name = "Out of space"

    def __init__(self, message=NOTHING_KEPT):
        super().__init__(message)


def is_disk_full(error):
    return isinstance(error, OSError) and error.errno in _FULL


def free_bytes():
    staging = current_app.config["STAGING_DIR"]
    os.makedirs(staging, exist_ok=True)
    stats = os.statvfs(staging)
    return stats.f_bavail * stats.f_frsize


def ensure_room(incoming=0, message=NOTHING_KEPT):
    """OutOfSpace unless `incoming` more bytes leave STAGING_RESERVE_BYTES free on the staging disk."""
    free = free_bytes()
    if free - (incoming or 0) < current_app.config["STAGING_RESERVE_BYTES"]:
        log.warning("staging is nearly full: %s bytes free, %s more asked for", free, incoming)
        raise OutOfSpace(message)
