"""One probe attempt, polled without blocking: an exec'd command, a TCP connect, an HTTP GET.

Each check starts in its constructor and is then polled once per agent tick (``poll(now)``)
until it returns an ``Outcome``; nothing here waits. Exec probes are child processes in their
own session (killed as a group at the timeout); TCP and HTTP use non-blocking sockets watched
with ``poll(2)`` (no fd limit, unlike ``select``). Messages follow the kubelet's wording, e.g.
``dial tcp 127.244.0.5:8080: connect: connection refused`` or
``HTTP probe failed with statuscode: 500``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import socket
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kube9_desktop.agent import AGENT_VERSION
from kube9_desktop.agent.processes import die_with_parent_hook, exit_code_of

MAX_OUTPUT_BYTES = 10 * 1024  # what the kubelet keeps of a probe's output or response body
MAX_HEAD_BYTES = 64 * 1024
USER_AGENT = f"kube-probe/kube9-{AGENT_VERSION}"
REAP_WAIT_S = 1.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt's result; ``message`` says why it failed (the kubelet's wording)."""

    ok: bool
    message: str = ""


class Check(Protocol):
    def poll(self, now: float) -> Outcome | None:
        """The outcome once known (None while it runs); a timed-out attempt fails."""
        ...

    def cancel(self) -> None:
        """Stop the attempt and release what it holds (process, socket)."""
        ...


class ExecCheck:
    """Run ``argv`` in the pod's directory with its environment; exit 0 passes."""

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        deadline: float,
    ) -> None:
        self._argv = list(argv)
        self._deadline = deadline
        self._output = bytearray()
        self._done: Outcome | None = None
        self._process: subprocess.Popen[bytes] | None = None
        try:
            self._process = subprocess.Popen(
                self._argv,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                close_fds=True,
                start_new_session=True,  # a timeout kills the whole group
                preexec_fn=die_with_parent_hook(),
            )
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            self._done = Outcome(False, f"exec {self._argv[0]!r}: {reason}")
            return
        assert self._process.stdout is not None
        os.set_blocking(self._process.stdout.fileno(), False)

    def poll(self, now: float) -> Outcome | None:
        if self._done is not None or self._process is None:
            return self._done
        self._drain()
        code = self._process.poll()
        if code is None:
            if now < self._deadline:
                return None
            self.cancel()
            self._done = Outcome(False, f'command "{" ".join(self._argv)}" timed out')
            return self._done
        self._drain()
        self._close()
        text = self._output.decode(errors="replace").strip()
        if code == 0:
            self._done = Outcome(True, text)
        else:
            self._done = Outcome(False, text or f"command exited with code {exit_code_of(code)}")
        return self._done

    def cancel(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            self._close()
            return
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=REAP_WAIT_S)  # SIGKILLed: reaped at once
        self._close()

    def _drain(self) -> None:
        """Read what the command wrote so far (keeping the first 10 KiB) so it never blocks."""
        assert self._process is not None
        stream = self._process.stdout
        if stream is None or stream.closed:
            return
        while True:
            try:
                chunk = os.read(stream.fileno(), 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not chunk:
                return
            room = MAX_OUTPUT_BYTES - len(self._output)
            if room > 0:
                self._output += chunk[:room]

    def _close(self) -> None:
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()


class _SocketCheck:
    """A non-blocking TCP connection to ``host:port``; subclasses say what follows it.

    ``poll(2)`` tells when the connect finished; after that reads and writes are simply tried
    (a ``BlockingIOError`` means: not yet).
    """

    def __init__(self, host: str, port: int, deadline: float) -> None:
        self.host, self.port = host, port
        self._deadline = deadline
        self._sock: socket.socket | None = None
        self._poller = select.poll()
        self._connected = False
        self._done: Outcome | None = None
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as exc:
            self._done = Outcome(False, self._wrap(f"socket: {_strerror(exc.errno or 0)}"))
            return
        self._sock = sock
        sock.setblocking(False)
        err = sock.connect_ex((host, port))
        if err == 0:
            self._connected = True
        elif err not in (errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
            self._done = Outcome(False, self._wrap(self._dial_error(err)))
            self.cancel()
            return
        self._poller.register(sock.fileno(), select.POLLOUT)

    def poll(self, now: float) -> Outcome | None:
        if self._done is not None:
            return self._done
        try:
            self._done = self._advance()
        except OSError as exc:
            text = _strerror(exc.errno or 0)
            self._done = Outcome(
                False, self._wrap(text if self._connected else self._dial_error(exc.errno or 0))
            )
        if self._done is None and now >= self._deadline:
            self._done = Outcome(False, self._timeout_message())
        if self._done is not None:
            self.cancel()
        return self._done

    def cancel(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError, KeyError):
                self._poller.unregister(self._sock.fileno())
            self._sock.close()
            self._sock = None

    def _advance(self) -> Outcome | None:
        """Carry the attempt on as far as it goes without waiting."""
        if not self._connected:
            if not self._poller.poll(0):
                return None
            assert self._sock is not None
            err = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                return Outcome(False, self._wrap(self._dial_error(err)))
            self._connected = True
        return self._after_connect()

    def _after_connect(self) -> Outcome | None:
        return Outcome(True)

    def _dial_error(self, err: int) -> str:
        return f"dial tcp {self.host}:{self.port}: connect: {_strerror(err)}"

    def _wrap(self, message: str) -> str:
        """How this kind of probe words a socket error."""
        return message

    def _timeout_message(self) -> str:
        return f"dial tcp {self.host}:{self.port}: i/o timeout"


class TcpCheck(_SocketCheck):
    """Passes when a TCP connection to the pod's address and port opens."""


class HttpCheck(_SocketCheck):
    """GET ``path``; a status from 200 to 399 passes (redirects are not followed).

    The response is read to its end (Content-Length, the server closing, or 10 KiB of body,
    as the kubelet reads at most that much) so the server never writes into a closed socket.
    """

    def __init__(self, host: str, port: int, path: str, deadline: float) -> None:
        self.path = path
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        self._sent = 0
        self._received = bytearray()
        self._status: int | None = None
        self._body_wanted: int | None = None  # bytes of body still to read (None: to the end)
        super().__init__(host, port, deadline)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    def _after_connect(self) -> Outcome | None:
        assert self._sock is not None
        if self._sent < len(self._request):
            try:
                self._sent += self._sock.send(self._request[self._sent :])
            except BlockingIOError:
                return None
            if self._sent < len(self._request):
                return None
        while True:
            try:
                chunk = self._sock.recv(65536)
            except BlockingIOError:
                return None
            if not chunk:
                return self._verdict(ended=True)
            self._received += chunk
            verdict = self._verdict(ended=False)
            if verdict is not None:
                return verdict

    def _verdict(self, ended: bool) -> Outcome | None:
        """The outcome once the response is complete (or the server ended it)."""
        if self._status is None:
            head_end = self._received.find(b"\r\n\r\n")
            if head_end == -1:
                if ended or len(self._received) > MAX_HEAD_BYTES:
                    return Outcome(False, self._wrap("malformed HTTP response"))
                return None
            status = _parse_head(bytes(self._received[:head_end]))
            if status is None:
                return Outcome(False, self._wrap("malformed HTTP response"))
            self._status, length = status
            self._received = self._received[head_end + 4 :]
            self._body_wanted = length
        if not ended:
            wanted = MAX_OUTPUT_BYTES if self._body_wanted is None else self._body_wanted
            if len(self._received) < min(wanted, MAX_OUTPUT_BYTES):
                return None
        if 200 <= self._status < 400:
            return Outcome(True)
        return Outcome(False, f"HTTP probe failed with statuscode: {self._status}")

    def _wrap(self, message: str) -> str:
        return f'Get "{self.url}": {message}'

    def _timeout_message(self) -> str:
        return f'Get "{self.url}": context deadline exceeded'


def _parse_head(head: bytes) -> tuple[int, int | None] | None:
    """(status, Content-Length or None) from a response head, or None if it is not HTTP."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return None
    length: int | None = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    return int(parts[1]), length


def _strerror(err: int) -> str:
    """``connection refused``: the C library's text in Go's lower case."""
    text = os.strerror(err) if err else "unknown error"
    return text[:1].lower() + text[1:]
