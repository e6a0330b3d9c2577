"""Hosts for the multi-host test, made on this machine: one network namespace per host, joined
to this one by a veth pair with addresses the test picks, and a TCP relay from each host's link
to the local PostgreSQL that can cut a host off (a partition) and let it back.

Traffic only goes to loopback and to the namespaces' own addresses. Everything made here is
removed on exit, and namespaces left by an earlier run that died are removed at start.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import random
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

PREFIX = "jdmh"


class CannotMakeHosts(Exception):
    """This machine cannot make network namespaces (no `ip`, not root, no netns support)."""


@dataclass(frozen=True)
class Host:
    name: str  # what its worker reports (jobdeck worker --name)
    netns: str
    link_address: str  # this side of the veth pair: where its relay listens
    own_address: str  # its side, inside the namespace


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise CannotMakeHosts(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")


def _remove_stale() -> None:
    """Namespaces of earlier runs whose test process is gone (a run killed mid-way)."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in listed.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(PREFIX) or "-" not in name:
            continue
        pid = name[len(PREFIX) :].split("-")[0]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


def _free_network() -> ipaddress.IPv4Network:
    """A /24 of 10.0.0.0/8 that no address or route of this machine overlaps."""
    used = []
    for command in (["ip", "-o", "-4", "addr"], ["ip", "-4", "route"]):
        for word in subprocess.run(command, capture_output=True, text=True).stdout.split():
            try:
                used.append(ipaddress.ip_network(word, strict=False))
            except ValueError:
                continue
    candidates = [ipaddress.ip_network(f"10.{b}.{c}.0/24") for b in range(64, 250) for c in (7, 77)]
    random.shuffle(candidates)
    for network in candidates:
        if not any(network.overlaps(u) for u in used if u.prefixlen > 0):
            return network
    raise CannotMakeHosts("no free 10.x.y.0/24 for the test's links")


@contextmanager
def hosts(names: list[str]) -> Iterator[list[Host]]:
    """One namespace per name, each linked to this namespace by a veth pair (a /30 each)."""
    if shutil.which("ip") is None:
        raise CannotMakeHosts("the `ip` command (iproute2) is not installed")
    _remove_stale()
    network = _free_network()
    made: list[Host] = []
    try:
        for index, name in enumerate(names):
            netns = f"{PREFIX}{os.getpid()}-{index}"
            ours, theirs = f"jm{os.getpid()}a{index}", f"jm{os.getpid()}b{index}"
            link, own = network[4 * index + 1], network[4 * index + 2]
            _ip("netns", "add", netns)
            made.append(Host(name, netns, str(link), str(own)))
            _ip("link", "add", ours, "type", "veth", "peer", "name", theirs, "netns", netns)
            _ip("addr", "add", f"{link}/30", "dev", ours)
            _ip("link", "set", ours, "up")
            _ip("-n", netns, "addr", "add", f"{own}/30", "dev", theirs)
            _ip("-n", netns, "link", "set", theirs, "up")
            _ip("-n", netns, "link", "set", "lo", "up")
        yield made
    finally:
        for host in made:  # deleting the namespace deletes its end of the pair, and so ours
            subprocess.run(["ip", "netns", "del", host.netns], capture_output=True)


class Relay:
    """TCP relays from each host's link address to PostgreSQL, on one event-loop thread.

    ``cut(host)`` holds that host's traffic both ways: bytes on their way wait, and new
    connections wait before reaching the server, as they do behind a broken link while TCP
    retransmits; ``heal(host)`` lets them through in order. Nothing is dropped or reordered,
    so a statement sent during the cut reaches the server after the heal.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.loop = asyncio.new_event_loop()
        self._gates: dict[str, asyncio.Event] = {}
        self._servers: list[asyncio.Server] = []
        self._thread = threading.Thread(target=self.loop.run_forever, name="relay", daemon=True)
        self._thread.start()

    def listen(self, host: Host) -> int:
        """Start relaying from ``host.link_address``; the port it listens on."""
        return asyncio.run_coroutine_threadsafe(self._listen(host), self.loop).result(10)

    async def _listen(self, host: Host) -> int:
        gate = asyncio.Event()
        gate.set()
        self._gates[host.name] = gate

        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await gate.wait()
                try:
                    up_reader, up_writer = await asyncio.open_connection(*self.upstream)
                except OSError:
                    writer.close()
                    return
                await asyncio.gather(
                    self._pump(gate, reader, up_writer),
                    self._pump(gate, up_reader, writer),
                    return_exceptions=True,
                )
            except asyncio.CancelledError:
                # Closing the relay: asyncio's stream server (3.11) reports a handler that ends
                # cancelled as an error, though that is how every connection here ends.
                writer.close()

        server = await asyncio.start_server(relay, host.link_address, 0)
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    @staticmethod
    async def _pump(
        gate: asyncio.Event, source: asyncio.StreamReader, sink: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                await gate.wait()
                data = await source.read(65536)
                if not data:
                    break
                await gate.wait()  # read just before a cut: delivered after the heal
                sink.write(data)
                await sink.drain()
        finally:
            sink.close()

    def cut(self, host: Host) -> None:
        self.loop.call_soon_threadsafe(self._gates[host.name].clear)

    def heal(self, host: Host) -> None:
        self.loop.call_soon_threadsafe(self._gates[host.name].set)

    def close(self) -> None:
        async def shut() -> None:
            for gate in self._gates.values():
                gate.set()
            for server in self._servers:
                server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shut(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
