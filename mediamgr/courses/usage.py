"""Where library files are used: the course links of a set of files."""
import sqlalchemy as sa

from ..extensions import db
from .models import ChapterItem

IN_USE = "It is used in a course; remove it from its chapters first."


def used_ids(media_ids):
    """The ids among `media_ids` that some chapter links."""
    if not media_ids:
        return set()
    return set(db.session.scalars(sa.select(ChapterItem.media_id).where(ChapterItem.media_id.in_(list(media_ids)))
                                  .distinct()))
