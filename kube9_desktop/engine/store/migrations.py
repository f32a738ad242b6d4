"""Schema versions and the forward path between them; run on every start, before anything else.

Version 1 is the first schema. A later version adds a function to ``STEPS`` that upgrades
from the version before it; a database newer than this code is refused, never downgraded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from sqlalchemy import Connection, Table, inspect, select

from kube9_desktop.engine.errors import StoreUnavailable
from kube9_desktop.engine.store.models import Base, Meta

SCHEMA_VERSION = 1
_meta = cast(Table, Meta.__table__)


def _create_v1(conn: Connection) -> None:
    Base.metadata.create_all(conn)


# STEPS[n] upgrades a database at version n-1 to version n (STEPS[1] creates it).
STEPS: dict[int, Callable[[Connection], None]] = {1: _create_v1}


def current_version(conn: Connection) -> int:
    """The database's schema version; 0 for an empty database."""
    if not inspect(conn).has_table("meta"):
        return 0
    row = conn.execute(select(_meta.c.value).where(_meta.c.key == "schema_version")).first()
    return int(row[0]) if row else 0


def migrate(
    conn: Connection,
    steps: dict[int, Callable[[Connection], None]] | None = None,
    target: int | None = None,
) -> int:
    """Bring the database to ``target`` (default: this code's version); returns the old version."""
    steps = STEPS if steps is None else steps
    target = SCHEMA_VERSION if target is None else target
    found = current_version(conn)
    if found > target:
        raise StoreUnavailable(
            f"The cluster database has schema version {found}, newer than this Kube-9 Desktop "
            f"understands ({target}). Upgrade the app, or point --data-dir elsewhere."
        )
    for version in range(found + 1, target + 1):
        steps[version](conn)
        if version == 1 and not inspect(conn).has_table("meta"):
            _meta.create(conn)
        conn.execute(_meta.delete().where(_meta.c.key == "schema_version"))
        conn.execute(_meta.insert().values(key="schema_version", value=str(version)))
    return found
