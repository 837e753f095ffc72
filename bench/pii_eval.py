#!/usr/bin/env python
"""How well the desk finds personal data in what readers type: recall and precision per kind
and overall, on labelled Chinese and English messages with and without personal data. A
finding counts when its kind and text are exactly a labelled one. Three sets in tests/data:

- ``pii_labelled.json``: written with the rules (105 messages);
- ``pii_dev.json`` and ``pii_test.json``: two halves of a set written independently, by
  someone who never saw the rules (160 messages). The rules were improved against the dev
  half only; the test half is the honest figure.

    .venv/bin/python bench/pii_eval.py                 # all three
    .venv/bin/python bench/pii_eval.py --set test      # one
    .venv/bin/python bench/pii_eval.py --set dev --misses
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transcripts.privacy import LABELS, find

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
SETS = {"labelled": "pii_labelled.json", "dev": "pii_dev.json", "test": "pii_test.json"}


def evaluate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    misses: list[str] = []
    for row in rows:
        want = Counter((p["kind"], p["text"]) for p in row["pii"])
        got = Counter((f.kind, f.text) for f in find(row["text"]))
        for key in want | got:
            hit = min(want[key], got[key])
            tp[key[0]] += hit
            if want[key] > hit:
                fn[key[0]] += want[key] - hit
                misses.append(f"missed {key[0]} {key[1]!r} in {row['text']!r}")
            if got[key] > hit:
                fp[key[0]] += got[key] - hit
                misses.append(f"false {key[0]} {key[1]!r} in {row['text']!r}")
    return {"tp": tp, "fp": fp, "fn": fn, "misses": misses, "messages": len(rows)}


def ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def report(name: str, rows: list[dict[str, Any]], misses: bool) -> None:
    r = evaluate(rows)
    tp, fp, fn = r["tp"], r["fp"], r["fn"]
    labelled = sum(len(x["pii"]) for x in rows)
    print(f"{name}: {r['messages']} messages, {labelled} labelled pieces of personal data")
    print(f"  {'kind':<12} {'labelled':>8} {'found':>6} {'recall':>7} {'precision':>9}")
    for kind in LABELS:
        n = tp[kind] + fn[kind]
        if n == 0 and fp[kind] == 0:
            continue
        print(
            f"  {kind:<12} {n:>8} {tp[kind] + fp[kind]:>6} {ratio(tp[kind], n):>7.2f}"
            f" {ratio(tp[kind], tp[kind] + fp[kind]):>9.2f}"
        )
    t, f, m = sum(tp.values()), sum(fp.values()), sum(fn.values())
    print(f"  {'all':<12} {t + m:>8} {t + f:>6} {ratio(t, t + m):>7.2f} {ratio(t, t + f):>9.2f}")
    if misses:
        for line in r["misses"]:
            print("  " + line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--set", choices=[*SETS, "all"], default="all")
    ap.add_argument("--misses", action="store_true")
    args = ap.parse_args(argv)
    for name, file in SETS.items():
        if args.set in ("all", name):
            report(
                f"{name} ({file})",
                json.loads((DATA / file).read_text(encoding="utf-8")),
                args.misses,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
