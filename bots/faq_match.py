"""Matching a reader's question to knowledge-base entries: tokens, a BM25 ranking and a
confidence. Pure functions and plain data; the method and its figures are in docs/faq.md.

Chinese has no spaces, so a question is cut into CJK character unigrams and bigrams (no
dictionary: it needs no model, knows library jargon as well as everyday words, and a two-word
paraphrase still shares its bigrams); Latin text into lowercased words with a light suffix
stemmer. Function words of either language are dropped. Entries are ranked with BM25; the
confidence of the best one is the share of the question's information (the sum of its terms'
IDF) that the entry contains, so a question made mostly of words the knowledge base never uses
gets a low confidence whatever its raw score.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

#: BM25's usual constants: term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75
#: A question's single characters weigh less than its bigrams: they match more by chance.
UNIGRAM_WEIGHT = 0.5
#: The entry's keywords count as part of its question; its answer helps matching less.
ANSWER_WEIGHT = 0.3
#: Answer only when the best entry covers at least half of the question's information (and
#: shares at least one bigram or word with it). Chosen on the dev half of
#: tests/data/faq_labelled.json: no false answer there from 0.40 on, and 0.5 leaves a margin
#: (docs/faq.md). Per language, so that a language added later may get its own figure.
MIN_CONFIDENCE: dict[str, float] = {"zh": 0.5, "en": 0.5}
#: For a language without its own figure.
DEFAULT_MIN_CONFIDENCE = 0.5
#: ...and when the runner-up, if it is another answer, scores clearly less.
MAX_RUNNER_UP = 0.9

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:'[a-z]+)?")
_HAS_CJK = re.compile(rf"[{_CJK}]")

#: Characters that carry little meaning alone in a question (particles, pronouns, question and
#: modal words). A unigram of one is dropped, and so is a bigram made of two.
ZH_STOP_CHARS = frozenset(
    "的了吗呢吧啊呀哦嗯么我你您他她它们是在和与及或请问怎如何什哪这那个一想要能可以会就都也还"
    "又把被给对从为些该样让得地着吧嘛啦么儿里"
)
#: Whole bigrams that say nothing about the subject.
ZH_STOP_BIGRAMS = frozenset(
    {"请问", "怎么", "如何", "什么", "可以", "能不", "不能", "需要", "一下", "是不", "不是",
     "应该", "怎样", "哪里", "哪个", "为什", "有没", "没有", "我的", "你们", "我们", "现在"}
)  # fmt: skip
_EN_STOP_WORDS = """a an the and or but if of to in on at by for with from into about as is are
was were be been being am do does did doing have has had having i me my we our you your he she
it its they them their this that these those what which who whom whose when where why how can
could would should will shall may might must not no yes so than too very just there here any
some all get got please hi hello thanks thank want need like know tell let make one up out also
there's i'm i've what's how's isn't don't can't"""
EN_STOP = frozenset(_EN_STOP_WORDS.split())


def normalise(text: str) -> str:
    """Full-width forms to ASCII, lower case (NFKC also unifies compatibility ideographs)."""
    return unicodedata.normalize("NFKC", text).lower()


def stem(word: str) -> str:
    """A light English stemmer: enough for register/registered/registration, renew/renewal,
    thesis/theses, cite/citing/citation to meet; not a linguistic one."""
    irregular = {"theses": "thesis", "e-mail": "email", "mails": "mail", "wi": "wifi"}
    if word in irregular:
        return irregular[word]
    if word.isdecimal() or len(word) <= 3:
        return word
    for suffix, repl in (
        ("ations", ""),
        ("ation", ""),
        ("ies", "y"),
        ("ing", ""),
        ("ed", ""),
        ("al", ""),
        ("es", "") if word.endswith(("ses", "xes", "ches", "shes")) else ("", ""),
        ("s", "") if not word.endswith(("ss", "us", "is")) else ("", ""),
    ):
        if suffix and word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: len(word) - len(suffix)] + repl
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word[:6]


def tokens(text: str) -> list[tuple[str, float]]:
    """Weighted terms of a text: CJK bigrams (1.0) and unigrams (``UNIGRAM_WEIGHT``), English
    word stems (1.0). Terms repeat as often as they occur."""
    out: list[tuple[str, float]] = []
    for run in _TOKEN.findall(normalise(text)):
        if _HAS_CJK.match(run):
            for ch in run:
                if ch not in ZH_STOP_CHARS:
                    out.append((ch, UNIGRAM_WEIGHT))
            for a, b in itertools.pairwise(run):
                pair = a + b
                if pair in ZH_STOP_BIGRAMS or a in ZH_STOP_CHARS or b in ZH_STOP_CHARS:
                    continue
                out.append((pair, 1.0))
        else:
            word = run.replace("'", "")
            if run in EN_STOP or word in EN_STOP:
                continue
            out.append((stem(word), 1.0))
    return out


def is_chinese(text: str) -> bool:
    """The question's language for matching: Chinese when it holds any CJK ideograph."""
    return _HAS_CJK.search(text) is not None


@dataclass(frozen=True, slots=True)
class Doc:
    """One entry as the index sees it."""

    id: int
    language: str
    question: str
    answer: str
    keywords: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    id: int
    #: Raw BM25 score (comparable only between entries for the same question).
    score: float
    #: Share of the question's information the entry contains, 0..1.
    confidence: float
    #: The runner-up's score over this one's (0 when there is none): near 1 means a toss-up.
    runner_up: float
    #: Whether it passes the thresholds: the bot answers with it.
    confident: bool


@dataclass
class Index:
    """BM25 over a small set of entries of one language."""

    docs: list[Doc]
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    max_runner_up: float = MAX_RUNNER_UP
    _tf: list[dict[str, float]] = field(default_factory=list)
    _len: list[float] = field(default_factory=list)
    _df: Counter[str] = field(default_factory=Counter)
    _avg: float = 1.0

    def __post_init__(self) -> None:
        for d in self.docs:
            tf: dict[str, float] = {}
            for term, w in tokens(f"{d.question} {d.keywords}"):
                tf[term] = tf.get(term, 0.0) + w
            for term, w in tokens(d.answer):
                tf[term] = tf.get(term, 0.0) + w * ANSWER_WEIGHT
            self._tf.append(tf)
            self._len.append(sum(tf.values()))
            self._df.update(tf.keys())
        self._avg = (sum(self._len) / len(self._len)) if self._len else 1.0

    def idf(self, term: str) -> float:
        """Lucene's form (never negative); a term no entry uses gets the highest IDF."""
        n, df = len(self.docs), self._df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def rank(self, question: str, limit: int = 5) -> list[Match]:
        query: dict[str, float] = {}
        for term, w in tokens(question):
            query[term] = max(query.get(term, 0.0), w)
        total = sum(w * self.idf(t) for t, w in query.items())
        if not self.docs or total <= 0:
            return []
        scored: list[tuple[float, float, int]] = []
        for i, tf in enumerate(self._tf):
            norm = K1 * (1 - B + B * self._len[i] / self._avg)
            score = covered = 0.0
            whole = False
            for term, w in query.items():
                f = tf.get(term)
                if not f:
                    continue
                idf = self.idf(term)
                score += w * idf * f * (K1 + 1) / (f + norm)
                covered += w * idf
                whole = whole or w >= 1.0
            if score > 0:
                # Single shared characters are chance ("你好" shares 好 with "越完整越好"):
                # without a shared bigram or word the confidence counts as nothing.
                scored.append((score, covered / total if whole else 0.0, i))
        scored.sort(key=lambda x: (-x[0], self.docs[x[2]].id))
        out: list[Match] = []
        for pos, (score, confidence, i) in enumerate(scored[:limit]):
            doc = self.docs[i]
            rival = next(
                (s for s, _, j in scored[pos + 1 :] if self.docs[j].answer != doc.answer), 0.0
            )
            ratio = rival / score if pos == 0 else 0.0
            out.append(
                Match(
                    doc.id,
                    score,
                    confidence,
                    ratio,
                    pos == 0 and confidence >= self.min_confidence and ratio <= self.max_runner_up,
                )
            )
        return out


def language_key(tag: str) -> str:
    """Entries are indexed per base language: ``zh`` or ``en`` (others by their own code)."""
    return tag.split("-")[0].strip().lower() or "zh"


@dataclass
class Knowledge:
    """The entries a library's readers may get answers from, one index per language."""

    indexes: dict[str, Index]

    @classmethod
    def build(
        cls,
        docs: Iterable[Doc],
        *,
        min_confidence: Mapping[str, float] = MIN_CONFIDENCE,
        max_runner_up: float = MAX_RUNNER_UP,
    ) -> Knowledge:
        per: dict[str, list[Doc]] = {}
        for d in docs:
            per.setdefault(language_key(d.language), []).append(d)
        return cls(
            {
                lang: Index(
                    ds,
                    min_confidence=min_confidence.get(lang, DEFAULT_MIN_CONFIDENCE),
                    max_runner_up=max_runner_up,
                )
                for lang, ds in per.items()
            }
        )

    def rank(self, question: str, limit: int = 5) -> list[Match]:
        index = self.indexes.get("zh" if is_chinese(question) else "en")
        return index.rank(question, limit) if index is not None else []

    def best(self, question: str) -> Match | None:
        """The entry to answer with, or None when no entry is a confident match."""
        got = self.rank(question, 1)
        return got[0] if got and got[0].confident else None


def evaluate(
    knowledge: Knowledge, labelled: Sequence[tuple[str, str, int | None]]
) -> dict[str, dict[str, float]]:
    """Figures per language over (question, language, expected entry id or None) items:
    ``precision`` (answered positives whose answer is the expected entry), ``answer_rate``
    (positives answered), ``false_answers`` (negatives answered), and the counts."""
    out: dict[str, dict[str, float]] = {}
    for lang in sorted({x[1] for x in labelled}):
        items = [x for x in labelled if x[1] == lang]
        pos = [x for x in items if x[2] is not None]
        neg = [x for x in items if x[2] is None]
        answered = right = false = 0
        for question, _, expect in items:
            got = knowledge.best(question)
            if expect is None:
                false += got is not None
            elif got is not None:
                answered += 1
                right += got.id == expect
        out[lang] = {
            "positives": len(pos),
            "negatives": len(neg),
            "answered": answered,
            "precision": right / answered if answered else 1.0,
            "answer_rate": answered / len(pos) if pos else 0.0,
            "false_answers": false / len(neg) if neg else 0.0,
        }
    return out
