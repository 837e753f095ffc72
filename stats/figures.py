"""The figures of a roll-up row, as plain values: built from facts, added together over days
and months, and read as a report's numbers (percentiles from the histograms)."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field, fields
from operator import add, sub
from typing import Any

from stats.models import BUCKETS, EDGES

#: The counters a roll-up row keeps, in the order reports list them.
COUNTERS = (
    "consultations",
    "served",
    "abandoned",
    "handed_off",
    "transferred",
    "overflow",
    "documents",
    "tickets_answered",
    "reader_messages",
    "consultant_messages",
    "satisfied",
    "unsatisfied",
    "excellent",
    "passed",
    "failed",
    "durations",
)


def _sized(hist: list[int] | None) -> list[int]:
    """A stored histogram with BUCKETS counts (an empty one is all zeros)."""
    if not hist:
        return [0] * BUCKETS
    if len(hist) == BUCKETS:
        return hist
    return (list(hist) + [0] * BUCKETS)[:BUCKETS]


def bucket(seconds: float) -> int:
    """The histogram bucket of a value: (EDGES[i-1], EDGES[i]] is bucket i."""
    return bisect_left(EDGES, seconds)


def percentile(hist: list[int], top: float, p: float) -> float | None:
    """The nearest-rank ``p``-th percentile (0 < p <= 100) of the values counted in ``hist``,
    as the upper edge of its bucket (never above the largest value seen, ``top``); None when
    nothing was counted."""
    n = sum(hist)
    if n == 0:
        return None
    rank = max(1, -(-n * p // 100))  # ceil(n * p / 100)
    seen = 0
    for i, count in enumerate(hist):
        seen += count
        if seen >= rank:
            edge = float(EDGES[i]) if i < len(EDGES) else top
            return min(edge, top)
    return top  # pragma: no cover - the loop always reaches the rank


@dataclass
class Figures:
    consultations: int = 0
    served: int = 0
    abandoned: int = 0
    handed_off: int = 0
    transferred: int = 0
    overflow: int = 0
    documents: int = 0
    tickets_answered: int = 0
    reader_messages: int = 0
    consultant_messages: int = 0
    satisfied: int = 0
    unsatisfied: int = 0
    excellent: int = 0
    passed: int = 0
    failed: int = 0
    durations: int = 0
    duration_sum: float = 0.0
    waits: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    replies: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    wait_max: float = 0.0
    reply_max: float = 0.0

    # -- building -------------------------------------------------------------------------

    def count_wait(self, seconds: float) -> None:
        self.waits[bucket(seconds)] += 1
        self.wait_max = max(self.wait_max, seconds)

    def count_reply(self, seconds: float) -> None:
        self.replies[bucket(seconds)] += 1
        self.reply_max = max(self.reply_max, seconds)

    def add(self, other: Figures | Any, sign: int = 1) -> None:
        """Add another row's figures (a ``Figures`` or a roll-up model row); ``sign`` -1
        takes them away (the maxima only ever grow)."""
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + sign * (getattr(other, name) or 0))
        self.duration_sum += sign * float(other.duration_sum or 0.0)
        # Element-wise in C (map): a year's table adds up some ten thousand of these.
        if sign > 0:
            self.waits = list(map(add, self.waits, _sized(other.waits)))
            self.replies = list(map(add, self.replies, _sized(other.replies)))
        else:
            self.waits = list(map(sub, self.waits, _sized(other.waits)))
            self.replies = list(map(sub, self.replies, _sized(other.replies)))
        if sign > 0:
            self.wait_max = max(self.wait_max, float(other.wait_max or 0.0))
            self.reply_max = max(self.reply_max, float(other.reply_max or 0.0))

    def empty(self) -> bool:
        return all(getattr(self, n) == 0 for n in COUNTERS)

    def columns(self) -> dict[str, Any]:
        """The values of a roll-up row's columns."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["waits"] = list(self.waits)
        out["replies"] = list(self.replies)
        return out

    # -- reading --------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The numbers a report shows."""
        rated = self.satisfied + self.unsatisfied
        graded = self.excellent + self.passed + self.failed
        out: dict[str, Any] = {
            name: getattr(self, name) for name in COUNTERS if name != "durations"
        }
        out.update(
            wait_p50=percentile(self.waits, self.wait_max, 50),
            wait_p90=percentile(self.waits, self.wait_max, 90),
            reply_p50=percentile(self.replies, self.reply_max, 50),
            reply_p90=percentile(self.replies, self.reply_max, 90),
            duration_mean=round(self.duration_sum / self.durations, 1) if self.durations else None,
            satisfaction=round(self.satisfied / rated, 4) if rated else None,
            excellent_rate=round(self.excellent / graded, 4) if graded else None,
            pass_rate=round((self.excellent + self.passed) / graded, 4) if graded else None,
        )
        return out
