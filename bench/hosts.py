"""Hosts for the scaling bench: the multi-host test's network namespaces, each reaching the
local PostgreSQL through its own ``socat`` relay (a C process per connection, so the relay is
not the bottleneck a Python one would be), and the database server's own CPU use.

A worker on host ``h`` runs as ``ip netns exec <ns> python -m jobdeck worker`` with the
database URL pointing at its link address; traffic goes only to loopback and to the
namespaces' own addresses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.multihost.network import CannotMakeHosts, Host, hosts

__all__ = ["CannotMakeHosts", "LinkedHost", "linked_hosts", "postgres_cpu_seconds"]


@dataclass(frozen=True)
class LinkedHost:
    host: Host
    port: int

    @property
    def wrap(self) -> list[str]:
        return ["ip", "netns", "exec", self.host.netns]

    def url_for(self, url: str) -> str:
        """``url`` as this host reaches the same database: through its relay."""
        parts = urlsplit(url)
        netloc = f"{parts.username}@" if parts.username else ""
        return urlunsplit(parts._replace(netloc=f"{netloc}{self.host.link_address}:{self.port}"))


@contextlib.contextmanager
def linked_hosts(count: int, upstream_port: int = 5432) -> Iterator[list[LinkedHost]]:
    if shutil.which("socat") is None:
        raise CannotMakeHosts("socat is not installed (Debian package socat)")
    names = [f"bench-host-{i + 1}" for i in range(count)]
    relays: list[subprocess.Popen[bytes]] = []
    try:
        with hosts(names) as made:
            linked = [LinkedHost(h, upstream_port) for h in made]
            for one in linked:
                listen = f"TCP-LISTEN:{one.port},bind={one.host.link_address},fork,reuseaddr"
                relays.append(
                    subprocess.Popen(
                        ["socat", listen, f"TCP:127.0.0.1:{upstream_port}"],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            time.sleep(0.3)  # socat is listening well within this
            yield linked
    finally:
        for relay in relays:
            relay.terminate()
            relay.wait(5)


def postgres_cpu_seconds(database: str) -> float:
    """User + system CPU of the ``postgres`` processes serving ``database`` (its backends) and
    of the server's own background processes (WAL writer, checkpointer ...), not the backends
    of other databases: read before and after a drain, the server's share of the cores."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            text = (proc / "stat").read_text()
            title = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue  # the process ended meanwhile
        if text[text.find("(") + 1 : text.rfind(")")] != "postgres":
            continue
        backend = "(" in title or "[local]" in title  # "... db 127.0.0.1(port) ..."
        if backend and f" {database} " not in title:
            continue
        fields = text.rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks
