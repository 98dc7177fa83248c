"""Row locks that serialise edits of the same rows, for every feature that changes them."""
import sqlalchemy as sa

from .extensions import db


def lock_rows(model, row_ids):
    """Hold these rows until the transaction ends: row locks in id order on PostgreSQL; on SQLite, a
    write first (the database's write lock: no one else commits until we do, so what is read next
    is the latest)."""
    ids = sorted(set(row_ids))
    if not ids:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(model.id).where(model.id.in_(ids)).order_by(model.id).with_for_update())
    else:
        db.session.execute(sa.update(model).where(model.id.in_(ids)).values(id=model.id)
                           .execution_options(synchronize_session=False))


def lock_row(model, row_id):
    lock_rows(model, [row_id])
