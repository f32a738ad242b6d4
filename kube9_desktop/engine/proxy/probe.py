"""Is an address already served by another program on this machine?

Every engine hands out cluster IPs from the same loopback range (127.96.0.0/16), so a second
engine on this machine (another data directory, a test run, a headless server) would give its
first Service the address the first engine's proxy already listens on, and its traffic would
reach the wrong cluster. A new Service's address is therefore tried first: binding it on each
of its ports, with SO_REUSEADDR so connections lingering in TIME_WAIT do not count; only
EADDRINUSE says "taken" (a port below 1024 without the privilege proves nothing).
"""

from __future__ import annotations

import errno
import socket


def address_in_use(ip: str, ports: tuple[int, ...]) -> bool:
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((ip, port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
    return False
