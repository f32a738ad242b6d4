"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from kube9_desktop.engine.core import Engine
from tests.helpers import Api, fast_settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """A started engine on the virtual runtime, serving its API on a free loopback port."""
    eng = Engine(fast_settings(tmp_path / "data"))
    await eng.start()
    try:
        yield eng
    finally:
        await eng.stop()


@pytest.fixture
async def api(engine: Engine) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(engine.api_url, engine.admin_token, session)
