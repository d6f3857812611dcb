"""Committing consecutive small builds together.

A commit costs DuckDB about as much as building a small mart, and writing each build's state record
costs about as much again. So a worker keeps one transaction open over consecutive builds that its
last runs say are quick: their swaps, and at commit their state records, all commit together (or not
at all: a kill or a failure leaves each of them at its old version, never recorded without its
build). A batch commits when it is BATCH_SECONDS old, before a build expected to take longer than
SOLO_SECONDS (or never timed: it runs in its own transaction, as on engines without batches), before
a build that must read what another worker committed since the batch began, and when the worker has
nothing else to take. A failure inside a batch rolls all of it back; the builds it held are then run
again one by one, each in its own transaction (see execute.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from martctl.engine.events import NodeResult

BATCH_SECONDS = 0.5  # a batch commits once it is this old: a kill loses at most about this much work
SOLO_SECONDS = 0.1  # a build expected to take longer commits on its own
GATE_SECONDS = 0.5  # the longest a worker waits for the other batches to commit before a checkpoint (see below)
# DuckDB checkpoints its write-ahead log at a commit only while no other write transaction is open: two
# workers' overlapping batches would never let it, and the log (and memory) would grow all run long.
# Past this size, the worker that sees it raises a gate: each worker commits its batch at its next build
# and begins none until that worker has run CHECKPOINT (execute._Run._checkpoint). A checkpoint stops
# every writer anyway (0.1-0.15 s for 16 MiB here); the gate only makes sure it can start.
WAL_BYTES = 16 * 2**20  # DuckDB's own checkpoint_threshold: 1,000 small marts on 2 threads then peak
# at 1.13x raw's memory instead of 1.6x, at a cost of about a tenth of their time


@dataclass
class Entry:
    step: Any  # execute.Step (which imports this module)
    result: NodeResult
    rows: dict[str, dict] = field(default_factory=dict)  # key -> its state record, written at commit


@dataclass
class Batch:
    """One worker's open transaction and the builds in it (finished, not committed yet)."""

    entries: list[Entry] = field(default_factory=list)
    began: float = 0.0
    snapshot: int = 0  # the run's commit count when it began: later commits are invisible to it

    def open(self, snapshot: int) -> None:
        self.entries, self.began, self.snapshot = [], time.monotonic(), snapshot

    def take(self) -> list[Entry]:
        entries, self.entries = self.entries, []
        return entries

    @property
    def old(self) -> bool:
        return time.monotonic() - self.began >= BATCH_SECONDS


def solo(expected: Mapping[str, float | None], key: str) -> bool:
    """Whether a build runs in its own transaction: its last build was slow, or it was never timed."""
    seconds = expected.get(key)
    return seconds is None or seconds > SOLO_SECONDS
