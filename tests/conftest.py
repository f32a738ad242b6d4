"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.serve import start_engine
from tests.helpers import Api, fast_settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORES)
def db_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The store of the engine under test: SQLite in the data dir, or a fresh PostgreSQL db.

    PostgreSQL comes from KUBE9_TEST_POSTGRES_URL (scripts/test starts a server); without it
    the postgres variants skip, unless KUBE9_REQUIRE_POSTGRES=1 (CI) makes that a failure.
    """
    if request.param == "sqlite":
        yield None
        return
    admin_url = os.environ.get("KUBE9_TEST_POSTGRES_URL")
    if not admin_url:
        if os.environ.get("KUBE9_REQUIRE_POSTGRES") == "1":
            pytest.fail("KUBE9_REQUIRE_POSTGRES=1 but KUBE9_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (KUBE9_TEST_POSTGRES_URL); scripts/test starts one")
    import psycopg

    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"kube9_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def engine(tmp_path: Path, db_url: str | None) -> AsyncIterator[Engine]:
    """A started engine on the virtual runtime, serving its API on a free loopback port."""
    eng = Engine(fast_settings(tmp_path / "data", db_url=db_url))
    await start_engine(eng)
    try:
        yield eng
    finally:
        await eng.stop()


@pytest.fixture
async def api(engine: Engine) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(engine.api_url, engine.admin_token, session)
