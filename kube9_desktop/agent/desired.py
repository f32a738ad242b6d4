"""A desired set too large for a heartbeat reply, fetched page by page between heartbeats.

The reply names ``desired_pods_url`` (with its generation); the agent GETs
``{api_url}{desired_pods_url}&offset=N&limit=M`` one page per loop step, so heartbeats keep
going out during a long download, and applies the set only once every page has arrived. A
page over ``MAX_PAGE_BYTES`` is asked for again with half as many pods; a single pod over it,
a stale generation (409) or any bad page abandons the download (the node keeps its pods and
the next heartbeat reply starts it again).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeGuard

from kube9_desktop.agent.client import MAX_REPLY_BYTES, EngineClient

PAGE_PODS = 500  # the engine's default page; at most 2,000
MAX_PAGE_BYTES = MAX_REPLY_BYTES
MAX_URL_CHARS = 2048


class PageError(Exception):
    """The download cannot go on; the message says why (never a pod's content)."""


def valid_desired_url(url: object) -> TypeGuard[str]:
    """A path on the engine's own API (``/nodes/7/desired?generation=5``), nothing else."""
    return (
        isinstance(url, str)
        and 1 < len(url) <= MAX_URL_CHARS
        and url.startswith("/")
        and not url.startswith("//")
        and url.isprintable()
        and " " not in url
        and "#" not in url
    )


class DesiredDownload:
    """The pages of one generation's desired set, collected until the last one arrives."""

    def __init__(
        self,
        url: str,
        generation: int,
        clock: Callable[[], float] = time.monotonic,
        page_pods: int = PAGE_PODS,
        max_page_bytes: int = MAX_PAGE_BYTES,
    ) -> None:
        self.url = url
        self.generation = generation
        self.limit = page_pods
        self.max_page_bytes = max_page_bytes
        self.pods: list[Any] = []
        self.next_offset: int | None = 0
        self.total: int | None = None
        self.pages = 0
        self._clock = clock
        self.started_at = clock()

    @property
    def done(self) -> bool:
        return self.next_offset is None

    @property
    def elapsed_s(self) -> float:
        return self._clock() - self.started_at

    def page_path(self) -> str:
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}offset={self.next_offset}&limit={self.limit}"

    def fetch_next(self, client: EngineClient) -> None:
        """Fetch one page (or learn to ask for fewer pods); raise PageError to give up."""
        offset = self.next_offset
        if offset is None:
            return
        reply = client.get(self.page_path(), self.max_page_bytes)
        if reply.too_large:
            if self.limit > 1:
                self.limit //= 2  # the same offset again, with fewer pods per page
                return
            raise PageError(
                f"the desired pod at offset {offset} is larger than {self.max_page_bytes} "
                "bytes, the most this agent reads in one reply"
            )
        if reply.status is None:
            raise PageError(f"page at offset {offset}: engine unreachable ({reply.error})")
        if reply.status == 409:
            raise PageError(f"generation {self.generation} is stale (the set changed meanwhile)")
        if reply.status != 200 or reply.payload is None:
            detail = reply.error or f"HTTP {reply.status}"
            raise PageError(f"page at offset {offset}: {detail}")
        self._take(reply.payload, offset)

    def _take(self, page: dict[str, Any], offset: int) -> None:
        pods, next_offset, total = page.get("pods"), page.get("next_offset"), page.get("total")
        if page.get("generation") != self.generation or page.get("offset") != offset:
            raise PageError(f"page at offset {offset} is of another generation or offset")
        if not isinstance(pods, list) or not _is_count(total):
            raise PageError(f"page at offset {offset} lacks its pods or total")
        if self.total is not None and total != self.total:
            raise PageError(f"the total changed from {self.total} to {total} between pages")
        if next_offset is not None and (not _is_count(next_offset) or next_offset <= offset):
            raise PageError(f"page at offset {offset} names no later next_offset")
        self.total = total
        self.pods += pods
        self.pages += 1
        if len(self.pods) > total or (next_offset is None and len(self.pods) != total):
            raise PageError(f"the pages held {len(self.pods)} pods, not the {total} announced")
        self.next_offset = next_offset


def _is_count(value: object) -> TypeGuard[int]:
    return type(value) is int and value >= 0
