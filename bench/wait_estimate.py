#!/usr/bin/env python
"""How far off is the waiting bot's estimate? A simulated day of one library's live desk.

Readers arrive through a day (08:00-22:00) at a rate that peaks mid-morning, mid-afternoon
and in the evening; consultants work shifts with a few chats each; chats last a log-normal
time (a few minutes, a long tail). Routing is first come, first served to any free slot, as
the desk does within one library. At each arrival that has to queue, the estimate is taken
with the same functions and the same live figures the bot uses (its place, the slots online
and free, the trimmed mean of chats that ended in the last two hours), and compared with the
wait that follows. It prints the mean absolute error and more, per day and overall, beside a
naive estimate (place x the fixed 6 minutes / consultants online) for scale.

    .venv/bin/python bench/wait_estimate.py                 # 20 simulated days
    .venv/bin/python bench/wait_estimate.py --days 100 --seed 7 --busy 1.5
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bots.estimate import DEFAULT_HANDLING_SECONDS, expected_wait, mean_handling

HOUR = 3600.0
OPEN, CLOSE = 8 * HOUR, 22 * HOUR
#: Readers per hour by hour of day (before --busy scales it).
ARRIVALS = {
    8: 15, 9: 35, 10: 55, 11: 50, 12: 25, 13: 30, 14: 50, 15: 55, 16: 40,
    17: 25, 18: 20, 19: 40, 20: 45, 21: 25,
}  # fmt: skip
#: (from hour, to hour, consultants) shifts, each consultant taking up to CAPACITY chats.
SHIFTS = [(8, 12, 2), (9, 17, 1), (12, 18, 2), (18, 22, 2)]
CAPACITY = 3
MEAN_CHAT = 6 * 60.0
SIGMA = 0.8
WINDOW = 2 * HOUR


@dataclass
class Sample:
    position: int
    estimate: float
    naive: float
    actual: float


@dataclass
class Day:
    rng: random.Random
    busy: float
    now: float = OPEN
    queue: deque[tuple[int, float]] = field(default_factory=deque)
    busy_slots: int = 0
    ended: deque[tuple[float, float]] = field(default_factory=deque)  # (end time, duration)
    pending: dict[int, tuple[float, float, float, int]] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    events: list[tuple[float, int, str, int]] = field(default_factory=list)
    started: dict[int, float] = field(default_factory=dict)
    seq: int = 0

    def consultants(self, t: float) -> int:
        h = t / HOUR
        return sum(n for start, end, n in SHIFTS if start <= h < end)

    def slots(self, t: float) -> int:
        return self.consultants(t) * CAPACITY

    def push(self, t: float, kind: str, ref: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (t, self.seq, kind, ref))

    def chat_length(self) -> float:
        mu = math.log(MEAN_CHAT) - SIGMA**2 / 2
        return self.rng.lognormvariate(mu, SIGMA)

    def handling(self) -> float:
        while self.ended and self.ended[0][0] < self.now - WINDOW:
            self.ended.popleft()
        return mean_handling((d for _, d in self.ended), DEFAULT_HANDLING_SECONDS)

    def start_chats(self) -> None:
        while self.queue and self.busy_slots < self.slots(self.now):
            rid, _arrived = self.queue.popleft()
            self.busy_slots += 1
            self.started[rid] = self.now
            self.push(self.now + self.chat_length(), "end", rid)
            got = self.pending.pop(rid, None)
            if got is not None:
                est, naive, at, position = got
                self.samples.append(Sample(position, est, naive, self.now - at))

    def run(self) -> None:
        rid = 0
        t = OPEN
        while t < CLOSE:
            rate = ARRIVALS[int(t // HOUR)] * self.busy / HOUR
            t += self.rng.expovariate(rate)
            if t < CLOSE:
                rid += 1
                self.push(t, "arrive", rid)
        for h in range(8, 23):  # shift changes free or remove slots
            self.push(h * HOUR, "shift", 0)
        while self.events:
            self.now, _, kind, ref = heapq.heappop(self.events)
            if kind == "arrive":
                self.queue.append((ref, self.now))
                free = max(0, self.slots(self.now) - self.busy_slots)
                if len(self.queue) > free:  # has to wait: the bot would speak
                    position = len(self.queue)
                    slots = self.slots(self.now)
                    est = expected_wait(position, slots, free, self.handling())
                    people = self.consultants(self.now)
                    naive = position * DEFAULT_HANDLING_SECONDS / people if people else None
                    if est is not None and naive is not None:
                        self.pending[ref] = (est, naive, self.now, position)
            elif kind == "end":
                self.busy_slots -= 1
                # The duration is what the desk records: assigned_at to ended_at.
                self.ended.append((self.now, self.now - self.started.pop(ref)))
            self.start_chats()


def summarise(samples: list[Sample]) -> dict[str, float]:
    err = [s.estimate - s.actual for s in samples]
    naive = [s.naive - s.actual for s in samples]
    return {
        "n": len(samples),
        "mean_wait_min": statistics.fmean(s.actual for s in samples) / 60,
        "mae_min": statistics.fmean(abs(e) for e in err) / 60,
        "median_abs_min": statistics.median(abs(e) for e in err) / 60,
        "bias_min": statistics.fmean(err) / 60,
        "within_2min": sum(abs(e) <= 120 for e in err) / len(err),
        "naive_mae_min": statistics.fmean(abs(e) for e in naive) / 60,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--busy", type=float, default=1.0, help="scale the arrival rates")
    args = ap.parse_args(argv)
    if args.days < 1 or args.busy <= 0:
        ap.error("--days must be >= 1 and --busy positive")
    every: list[Sample] = []
    print(
        f"wait_estimate: {args.days} simulated days, arrivals x{args.busy:g}, chats log-normal "
        f"mean {MEAN_CHAT / 60:.0f} min (sigma {SIGMA}), {CAPACITY} chats per consultant"
    )
    for d in range(args.days):
        day = Day(random.Random(args.seed + d), args.busy)
        day.run()
        every += day.samples
    if not every:
        print("nobody had to wait: raise --busy")
        return 0
    s = summarise(every)
    print(f"  readers who queued: {s['n']:,} (mean wait {s['mean_wait_min']:.1f} min)")
    print(
        f"  bot estimate:   mean absolute error {s['mae_min']:.2f} min, median "
        f"{s['median_abs_min']:.2f} min, bias {s['bias_min']:+.2f} min, "
        f"within 2 min {s['within_2min']:.0%}"
    )
    print(f"  naive estimate: mean absolute error {s['naive_mae_min']:.2f} min (for scale)")
    print("  by place in the queue:")
    buckets = [(1, 1), (2, 3), (4, 7), (8, 10_000)]
    for lo, hi in buckets:
        part = [x for x in every if lo <= x.position <= hi]
        if part:
            b = summarise(part)
            label = f"{lo}" if lo == hi else (f"{lo}-{hi}" if hi < 10_000 else f"{lo}+")
            print(
                f"    place {label:<5} n={b['n']:>6,}  mean wait {b['mean_wait_min']:5.1f} min  "
                f"MAE {b['mae_min']:5.2f} min  bias {b['bias_min']:+5.2f} min"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
