"""The SQLite wake-up channel: a ring from another process's channel wakes a listener."""

from __future__ import annotations

import socket
from pathlib import Path

from jobdeck.store.sqlite_wake import WakeChannel


def test_a_ring_from_another_channel_wakes_the_listener(tmp_path: Path) -> None:
    waiter, enqueuer = WakeChannel(tmp_path / "jobs.db"), WakeChannel(tmp_path / "jobs.db")
    try:
        listener = waiter.listener()
        assert listener is not None
        assert not WakeChannel.wait(listener, 0.01)  # nothing rang yet
        enqueuer.ring()
        enqueuer.ring()
        assert WakeChannel.wait(listener, 1.0)
        assert not WakeChannel.wait(listener, 0.01)  # both rings were consumed by one wake
    finally:
        waiter.close()
        enqueuer.close()


def test_a_socket_left_by_a_dead_process_is_removed_on_ring(tmp_path: Path) -> None:
    channel = WakeChannel(tmp_path / "jobs.db")
    channel.folder.mkdir(mode=0o700, exist_ok=True)
    stale = channel.folder / "999999-dead.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(stale))
    dead.close()  # the file stays, nobody reads it: as after a SIGKILL
    try:
        channel.ring()
        assert not stale.exists()
    finally:
        channel.close()
        channel.folder.rmdir()


def test_databases_do_not_share_a_channel(tmp_path: Path) -> None:
    assert WakeChannel(tmp_path / "a.db").folder != WakeChannel(tmp_path / "b.db").folder
