"""Job dependencies, the part both dialects share: marking the parents of a new job, choosing
its first state, and settling the children of a job that ended (released when all their
parents succeeded, cancelled with the reason when one failed, was cancelled or deleted).

Every verb here runs inside the caller's write transaction, through ``Linker.run`` (one named
query of the dialect). Children are settled only for parents flagged ``has_children``, so a
store with no dependencies never runs these statements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jobdeck.errors import UnknownParentJob
from jobdeck.states import JobState

Run = Callable[[str, Mapping[str, Any]], Sequence[Any]]

# What the children of a parent that ended are told, after "parent job #N ".
_ENDED = {JobState.FAILED: "failed", JobState.CANCELLED: "was cancelled"}
WAS_DELETED = "was deleted"


@dataclass(frozen=True)
class Parents:
    """The states of a new job's parents, read as they were marked ``has_children``."""

    states: Mapping[int, JobState]

    def doomed_by(self) -> tuple[int, str] | None:
        """The first parent that failed or was cancelled, with its reason; None if none."""
        for job_id in sorted(self.states):
            state = self.states[job_id]
            if state in _ENDED:
                return job_id, _ENDED[state]
        return None

    def all_succeeded(self) -> bool:
        return all(state == JobState.SUCCEEDED for state in self.states.values())


@dataclass(frozen=True)
class Linker:
    """The dependency statements of one transaction. ``locks_rows``: the dialect has
    concurrent writers (PostgreSQL), so children are locked, in id order, before they are
    settled; SQLite's one write lock already orders every writer."""

    run: Run
    encode_list: Callable[[Sequence[Any]], Any]
    now: Any  # the time as the dialect's statements take it
    locks_rows: bool = False

    def mark_parents(self, after: Sequence[int]) -> Parents:
        """Flag the parents ``has_children`` and read their states: marked first, so that a
        parent finishing at the same moment either is seen finished here or, waiting for this
        transaction's lock, sees the new child when it settles its children."""
        ids = sorted(set(after))
        rows = self.run("mark_parents", {"ids": self.encode_list(ids)})
        states = {int(r["id"]): JobState(r["state"]) for r in rows}
        missing = [job_id for job_id in ids if job_id not in states]
        if missing:
            named = ", ".join(f"#{job_id}" for job_id in missing)
            raise UnknownParentJob(f"after= names no such job: {named}; nothing was enqueued")
        return Parents(states)

    def link(self, child_id: int, parents: Parents) -> None:
        params = {"child_id": child_id, "ids": self.encode_list(sorted(parents.states))}
        self.run("link_parents", params)

    def settle(self, ended: Iterable[tuple[int, str]]) -> bool:
        """Settle the children of parents that ended in the (id, state) given; True when some
        child became due (the caller wakes the workers)."""
        states = [(job_id, JobState(state)) for job_id, state in ended]
        succeeded = [job_id for job_id, state in states if state == JobState.SUCCEEDED]
        doomed = [(job_id, _ENDED[state]) for job_id, state in states if state in _ENDED]
        released = self.release_children(succeeded) if succeeded else False
        if doomed:
            self.cancel_children(doomed)
        return released

    def release_children(self, parent_ids: Sequence[int]) -> bool:
        """Waiting children of these succeeded parents whose parents all succeeded become due."""
        ids = self.encode_list(sorted(parent_ids))
        if self.locks_rows:
            self.run("lock_children", {"ids": ids})
        return bool(self.run("release_children", {"ids": ids, "now": self.now}))

    def cancel_children(self, parents: Sequence[tuple[int, str]]) -> None:
        """Cancel the waiting children of ``parents`` (id, reason), then theirs, level by level:
        each level is a statement of its own, so on PostgreSQL it also sees a grandchild
        enqueued while the level above was being cancelled."""
        while parents:
            ids = self.encode_list([job_id for job_id, _ in parents])
            if self.locks_rows:
                self.run("lock_children", {"ids": ids})
            params = {
                "parent_ids": ids,
                "reasons": self.encode_list([reason for _, reason in parents]),
                "now": self.now,
            }
            rows = self.run("cancel_children", params)
            parents = [
                (int(r["id"]), _ENDED[JobState.CANCELLED]) for r in rows if r["has_children"]
            ]


def first_state(parents: Parents | None, due_state: JobState) -> JobState:
    """A new job's state: ``due_state`` (scheduled or available) unless a parent is unfinished
    (waiting). A job doomed by a failed parent is inserted waiting too, then cancelled by
    ``cancel_children`` with the reason, as if the parent had ended after it."""
    if parents is None or parents.all_succeeded():
        return due_state
    return JobState.WAITING


def ended_with_children(rows: Iterable[Any], state_column: str = "state") -> list[tuple[int, str]]:
    """(id, state) of the rows that ended (succeeded, failed or cancelled) and have children."""
    return [
        (int(r["id"]), str(r[state_column]))
        for r in rows
        if r["has_children"] and JobState(r[state_column]).is_final
    ]


def deleted_parents(rows: Iterable[Any]) -> list[tuple[int, str]]:
    """Deleted jobs whose children still wait on them: those that had not finished."""
    return [
        (int(r["id"]), WAS_DELETED)
        for r in rows
        if r["has_children"] and not JobState(r["state"]).is_final
    ]
