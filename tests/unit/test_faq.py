"""The FAQ matcher: tokens of Chinese and English questions, the BM25 ranking, the confidence
threshold, and the labelled set's figures (a quality floor, printed; bench/faq_eval.py)."""

from __future__ import annotations

import pytest

from bench.faq_eval import LANGUAGES, default_docs, figures, labelled
from bots.faq_match import UNIGRAM_WEIGHT, Doc, Knowledge, is_chinese, stem, tokens
from bots.kb_io import parse_csv, parse_json, to_csv, to_json
from bots.texts import TEMPLATES, check_template, render


def terms(text: str) -> list[str]:
    return [t for t, _ in tokens(text)]


def test_chinese_is_cut_into_bigrams_and_weaker_unigrams() -> None:
    got = tokens("学位论文")
    assert ("学位", 1.0) in got and ("位论", 1.0) in got and ("论文", 1.0) in got
    assert ("学", UNIGRAM_WEIGHT) in got and ("文", UNIGRAM_WEIGHT) in got


def test_function_words_are_dropped() -> None:
    # 请问 / 怎么 / 吗 say nothing about the subject; neither do bigrams across them.
    assert terms("请问怎么续借吗") == ["续", "借", "续借"]
    assert terms("你好") == ["好"]
    assert terms("How do I renew my books?") == ["renew", "book"]


def test_full_width_forms_and_mixed_text() -> None:
    assert terms("ＣＮＫＩ") == ["cnki"]
    got = terms("知网CNKI怎么下载")
    assert "cnki" in got and "知网" in got and "下载" in got


@pytest.mark.parametrize(
    ("words", "same"),
    [
        (("register", "registered", "registration"), True),
        (("renew", "renewal", "renewing"), True),
        (("thesis", "theses"), True),
        (("citation", "cite", "citing"), True),
        (("book", "books"), True),
        (("free", "fee"), False),
    ],
)
def test_the_light_stemmer(words: tuple[str, ...], same: bool) -> None:
    assert (len({stem(w) for w in words}) == 1) is same


def test_language_of_a_question() -> None:
    assert is_chinese("我想问CNKI") and not is_chinese("CNKI access from home")


DOCS = [
    Doc(1, "zh-CN", "借的书怎么续借？", "在“我的图书馆”中续借。", "续借 延期 到期"),
    Doc(2, "zh-CN", "怎样办理读者证？", "按本馆规定办理。", "办证 借书证"),
    Doc(3, "en", "How can I renew a book?", "Renew it in My Library.", "extend loan due"),
]


def test_the_best_entry_ranks_first_in_the_questions_language() -> None:
    k = Knowledge.build(DOCS)
    ranked = k.rank("借的书到期了能延期吗")
    assert ranked[0].id == 1 and ranked[0].confident
    assert all(m.id != 3 for m in ranked)
    best = k.best("my loan is due, can I extend it?")
    assert best is not None and best.id == 3


def test_unrelated_questions_get_no_answer() -> None:
    k = Knowledge.build(DOCS)
    for q in ("今天天气怎么样", "你好", "What's the weather like?", "", "？？"):
        assert k.best(q) is None, q


def test_the_threshold_decides() -> None:
    q = "读者证怎么办理，需要带什么"
    lax = Knowledge.build(DOCS, min_confidence={"zh": 0.1})
    strict = Knowledge.build(DOCS, min_confidence={"zh": 0.99})
    assert lax.best(q) is not None and strict.best(q) is None
    m = lax.rank(q)[0]
    assert 0.1 <= m.confidence < 0.99


def test_a_toss_up_between_two_answers_is_not_answered() -> None:
    twins = [
        Doc(1, "zh-CN", "馆际互借怎么申请", "答案甲"),
        Doc(2, "zh-CN", "馆际互借怎么申请", "答案乙"),
    ]
    k = Knowledge.build(twins)
    assert k.rank("馆际互借")[0].runner_up == pytest.approx(1.0)
    assert k.best("馆际互借") is None


def test_the_labelled_set_is_large_enough_and_refers_to_entries() -> None:
    items = labelled()
    zh = [x for x in items if x[1] == "zh-CN"]
    en = [x for x in items if x[1] == "en"]
    assert len(zh) >= 60 and len(en) >= 30
    for group in (zh, en):
        assert sum(x[2] is None for x in group) >= 10  # questions that must get no answer
    assert {x[2] for x in items if x[2]} <= {d.id for d in default_docs()}


@pytest.mark.parametrize("split", ["dev", "test"])
def test_precision_at_one_on_the_labelled_set(split: str) -> None:
    got = figures(split)
    for lang, f in got.items():
        print(
            f"{split} {LANGUAGES[lang]}: precision@1 {f['precision']:.3f} on "
            f"{f['answered']:.0f} answered, answer rate {f['answer_rate']:.3f} of "
            f"{f['positives']:.0f}, false answers {f['false_answers']:.3f} of "
            f"{f['negatives']:.0f}"
        )
        assert f["precision"] >= 0.85, (lang, f)
        assert f["false_answers"] <= 0.1, (lang, f)
        assert f["answer_rate"] >= 0.6, (lang, f)


def test_the_faq_template() -> None:
    allowed, defaults = TEMPLATES["faq_answer"]
    assert allowed == {"question", "answer"}
    for lang in ("zh-CN", "en"):
        check_template("faq_answer", defaults[lang])
    said = render("faq_answer", "zh-CN", {"question": "问{题}", "answer": "答{案}"})
    assert "答{案}" in said and "咨询员" in said
    assert "consultant" in render("faq_answer", "en-GB", {"question": "q", "answer": "a"})


ROWS = [
    {"language": "zh-CN", "question": "问题一", "answer": "回答一", "keywords": "", "active": True},
    {"language": "en", "question": "Q two", "answer": 'A, "two"\nlines', "active": False},
]


def test_files_round_trip() -> None:
    for write, read in ((to_csv, parse_csv), (to_json, parse_json)):
        good, problems = read(write([{**r, "id": 7, "scope": "library"} for r in ROWS]))
        assert problems == []
        assert [(e.question, e.answer, e.active) for e in good] == [
            (r["question"], r["answer"], r["active"]) for r in ROWS
        ]


def test_every_bad_row_is_reported() -> None:
    good, problems = parse_json(
        b'[{"language": "zh-CN", "question": "q", "answer": "a"},'
        b' {"language": "zh-CN", "question": " Q ", "answer": "b"},'
        b' {"language": "??", "question": "x", "answer": "y", "colour": 1}, 3]'
    )
    assert [(p.row, p.field) for p in problems] == [
        (2, "question"),
        (3, "language"),
        (3, "colour"),
        (4, ""),
    ]
    _, problems = parse_csv(b"language,question,answer,active\nen,q,a,perhaps\n")
    assert [(p.row, p.field) for p in problems] == [(2, "active")]
