"""The FAQ bot's quality on a labelled set: precision@1 on the questions it answers, its answer
rate on questions the knowledge base covers, and its false answers on questions it must leave to
a consultant, per language and per split (dev tuned the thresholds; test only measures).

    .venv/bin/python bench/faq_eval.py                 # the figures
    .venv/bin/python bench/faq_eval.py --sweep         # the thresholds' trade-off, on dev
    .venv/bin/python bench/faq_eval.py --misses        # every wrong or missing answer

The knowledge base is the alliance's default entries (bots/kb_defaults.py), the labelled set
tests/data/faq_labelled.json; docs/faq.md explains the method and records the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bots.faq_match import (  # noqa: E402
    MAX_RUNNER_UP,
    MIN_CONFIDENCE,
    Doc,
    Knowledge,
    evaluate,
)
from bots.kb_defaults import DEFAULT_ENTRIES  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "faq_labelled.json"
LANGUAGES = {"zh-CN": "Chinese", "en": "English"}


def default_docs() -> list[Doc]:
    return [
        Doc(i, e.language, e.question, e.answer, e.keywords)
        for i, e in enumerate(DEFAULT_ENTRIES, 1)
    ]


def labelled(split: str | None = None) -> list[tuple[str, str, int | None]]:
    """(question, language, expected entry id or None) items, of one split or all."""
    ids = {d.question: d.id for d in default_docs()}
    items = json.loads(LABELLED.read_text(encoding="utf-8"))["items"]
    out = []
    for it in items:
        if split is not None and it["split"] != split:
            continue
        expect = it["expect"]
        if expect is not None and expect not in ids:
            raise SystemExit(f"{LABELLED.name}: no default entry asks {expect!r}")
        out.append((it["question"], it["language"], ids[expect] if expect else None))
    return out


def figures(
    split: str | None,
    min_confidence: Mapping[str, float] = MIN_CONFIDENCE,
    max_runner_up: float = MAX_RUNNER_UP,
) -> dict[str, dict[str, float]]:
    k = Knowledge.build(default_docs(), min_confidence=min_confidence, max_runner_up=max_runner_up)
    return evaluate(k, labelled(split))


def table(split: str | None) -> str:
    rows = [
        f"{'split':<6} {'language':<8} {'pos':>4} {'neg':>4} {'precision@1':>12} "
        f"{'answer rate':>12} {'false answers':>14}"
    ]
    for lang, f in figures(split).items():
        rows.append(
            f"{split or 'all':<6} {LANGUAGES.get(lang, lang):<8} {f['positives']:>4.0f} "
            f"{f['negatives']:>4.0f} {f['precision']:>12.3f} {f['answer_rate']:>12.3f} "
            f"{f['false_answers']:>14.3f}"
        )
    return "\n".join(rows)


def sweep() -> None:
    print(
        f"{'min_conf':>8} {'runner_up':>9}  "
        + "  ".join(f"{LANGUAGES[x]:>7} P@1 ans false" for x in LANGUAGES)
    )
    for conf in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        for ratio in (0.7, 0.85, 1.0):
            got = figures("dev", {"zh": conf, "en": conf}, ratio)
            cells = "  ".join(
                f"{got[x]['precision']:>11.2f} {got[x]['answer_rate']:.2f} "
                f"{got[x]['false_answers']:.2f}  "
                for x in LANGUAGES
            )
            print(f"{conf:>8.2f} {ratio:>9.2f}  {cells}")


def misses() -> None:
    docs = {d.id: d for d in default_docs()}
    k = Knowledge.build(docs.values())
    for question, _lang, expect in labelled():
        ranked = k.rank(question, 2)
        best = k.best(question)
        if (best.id if best else None) == expect:
            continue
        top: Any = ranked[0] if ranked else None
        print(
            f"{question!r}: expected {docs[expect].question if expect else None!r}; "
            f"got {docs[best.id].question if best else None!r} "
            f"(top {docs[top.id].question if top else None!r}, "
            f"confidence {top.confidence if top else 0:.2f}, "
            f"runner-up {top.runner_up if top else 0:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="thresholds' trade-off on dev")
    parser.add_argument("--misses", action="store_true", help="list wrong and missing answers")
    args = parser.parse_args()
    if args.sweep:
        sweep()
        return
    if args.misses:
        misses()
        return
    print(
        f"FAQ on {LABELLED.relative_to(ROOT)} against {len(DEFAULT_ENTRIES)} default entries "
        f"(min confidence {MIN_CONFIDENCE}, runner-up at most {MAX_RUNNER_UP} of the best)"
    )
    for split in ("dev", "test", None):
        print(table(split))


if __name__ == "__main__":
    main()
