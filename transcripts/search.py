"""Full-text search over finished consultations, Chinese and English, on SQLite and PostgreSQL.

**Choice: one tokenizer in Python, the databases' own inverted indexes.** Every consultation's
masked text is turned into two token streams: ``grams`` (overlapping CJK character bigrams and
lower-cased Latin words and numbers, in text order) and ``chars`` (single CJK characters). A
query is tokenized the same way and asked as a *phrase*: "学位论文" is the adjacent bigrams
学位 位论 论文, so it finds exactly the consultations containing that phrase, without a
dictionary (library jargon such as 查收查引 is not in one) and without segmentation errors. A
one-character query looks in ``chars``.

- SQLite: an FTS5 table over the two streams (its ``unicode61`` tokenizer splits them on the
  spaces this module puts in); FTS5's own trigram tokenizer would need three characters, and
  two-character Chinese words are the common case.
- PostgreSQL: two ``tsvector`` columns (``simple`` configuration, which keeps tokens as they
  are) with GIN indexes, phrase queries with ``<->``. ``pg_trgm`` would need the extension and
  matches three-character windows, again missing two-character words.

The same tokenizer on both means the same results on both, which the tests check. Hits are
highlighted in Python from the stored masked text. The index tables are created by migration
0008 as dialect-specific DDL and are not part of the ORM metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[A-Za-z0-9]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
#: Longest query phrase, in characters.
MAX_QUERY_CHARS = 100
#: Text of one consultation that is indexed (a chat of 500 long messages fits).
MAX_INDEXED_CHARS = 200_000


def grams(text_: str) -> list[str]:
    out: list[str] = []
    for run in _RUN.findall(text_):
        if _IS_CJK.match(run):
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.append(run.lower())
    return out


def chars(text_: str) -> list[str]:
    return [ch for run in _RUN.findall(text_) if _IS_CJK.match(run) for ch in run]


@dataclass(frozen=True, slots=True)
class Query:
    """What was asked: phrases, each a token sequence (all must match), and the words to
    highlight."""

    phrases: list[list[str]]
    singles: list[str]
    terms: list[str]

    @property
    def empty(self) -> bool:
        return not self.phrases and not self.singles


def parse(q: str) -> Query:
    """Space-separated parts are ANDed; quotes keep a phrase with spaces together."""
    q = q.strip()[:MAX_QUERY_CHARS]
    parts = [quoted or bare for quoted, bare in re.findall(r'"([^"]+)"|(\S+)', q)]
    phrases: list[list[str]] = []
    singles: list[str] = []
    terms: list[str] = []
    for part in parts:
        runs = _RUN.findall(part)
        if not runs:
            continue
        terms.append(part)
        if len(runs) == 1 and len(runs[0]) == 1 and _IS_CJK.match(runs[0]):
            singles.append(runs[0])
            continue
        tokens = grams(part)
        if tokens:
            phrases.append(tokens)
    return Query(phrases, singles, terms)


# -- the index: DDL (migration 0008) ------------------------------------------------------

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE transcript_fts USING fts5("
    "grams, chars, tokenize = 'unicode61 remove_diacritics 0')",
)
POSTGRES_DDL = (
    "CREATE TABLE transcript_search ("
    " consultation_id integer PRIMARY KEY REFERENCES consultations(id),"
    " grams tsvector NOT NULL, chars tsvector NOT NULL)",
    "CREATE INDEX ix_transcript_search_grams ON transcript_search USING gin (grams)",
    "CREATE INDEX ix_transcript_search_chars ON transcript_search USING gin (chars)",
)
SQLITE_DROP = ("DROP TABLE IF EXISTS transcript_fts",)
POSTGRES_DROP = ("DROP TABLE IF EXISTS transcript_search",)
#: Names the migration test leaves out of the ORM comparison.
INDEX_TABLES = ("transcript_fts", "transcript_search")


def is_index_table(name: str | None) -> bool:
    return bool(name) and any(str(name).startswith(t) for t in INDEX_TABLES)


# -- writing and querying ------------------------------------------------------------------


async def put(conn: AsyncConnection, consultation_id: int, masked: str) -> None:
    """(Re)index one consultation's masked text (its first MAX_INDEXED_CHARS: PostgreSQL
    refuses a tsvector over 1 MB)."""
    masked = masked[:MAX_INDEXED_CHARS]
    g, c = " ".join(grams(masked)), " ".join(chars(masked))
    if conn.dialect.name == "sqlite":
        await conn.execute(
            text("DELETE FROM transcript_fts WHERE rowid = :id"), {"id": consultation_id}
        )
        await conn.execute(
            text("INSERT INTO transcript_fts (rowid, grams, chars) VALUES (:id, :g, :c)"),
            {"id": consultation_id, "g": g, "c": c},
        )
    else:
        await conn.execute(
            text(
                "INSERT INTO transcript_search (consultation_id, grams, chars)"
                " VALUES (:id, to_tsvector('simple', :g), to_tsvector('simple', :c))"
                " ON CONFLICT (consultation_id) DO UPDATE"
                " SET grams = EXCLUDED.grams, chars = EXCLUDED.chars"
            ),
            {"id": consultation_id, "g": g, "c": c},
        )


def _fts5_phrase(tokens: list[str]) -> str:
    return '"' + " ".join(t.replace('"', "") for t in tokens) + '"'


def _ts_phrase(tokens: list[str]) -> str:
    # Tokens are letters and digits only (see grams), so nothing needs quoting.
    return " <-> ".join(tokens)


def match_clause(dialect: str, q: Query) -> tuple[str, dict[str, Any]]:
    """A SQL condition on ``transcript_docs.consultation_id`` for the query, and its
    parameters."""
    if dialect == "sqlite":
        parts = [f"grams : {_fts5_phrase(p)}" for p in q.phrases] + [
            f"chars : {_fts5_phrase([s])}" for s in q.singles
        ]
        return (
            "transcript_docs.consultation_id IN"
            " (SELECT rowid FROM transcript_fts WHERE transcript_fts MATCH :fts)",
            {"fts": " AND ".join(parts)},
        )
    conds, params = _ts_conditions(q)
    return (
        "transcript_docs.consultation_id IN (SELECT s.consultation_id FROM transcript_search s"  # noqa: S608 (only placeholders)
        f" WHERE {conds})",
        params,
    )


def _ts_conditions(q: Query) -> tuple[str, dict[str, Any]]:
    conds = []
    params: dict[str, Any] = {}
    for i, p in enumerate(q.phrases):
        conds.append(f"s.grams @@ to_tsquery('simple', :g{i})")
        params[f"g{i}"] = _ts_phrase(p)
    for i, ch in enumerate(q.singles):
        conds.append(f"s.chars @@ to_tsquery('simple', :c{i})")
        params[f"c{i}"] = ch
    return " AND ".join(conds), params


#: Up to this many hits, a PostgreSQL search reads them from the GIN indexes first.
FEW_HITS = 2000


async def condition(conn: Any, dialect: str, q: Query) -> tuple[Any, dict[str, Any]]:
    """The condition on ``transcript_docs`` for a non-empty query, and its parameters: what
    the API and the bench both use (``conn``: a session or connection to read with)."""
    from transcripts.models import TranscriptDoc

    if dialect == "postgresql":
        few = await few_hits(conn, q)
        if few is not None:
            return TranscriptDoc.consultation_id.in_(few), {}
    clause, params = match_clause(dialect, q)
    return text(clause), params


async def few_hits(session: Any, q: Query, most: int | None = None) -> list[int] | None:
    """PostgreSQL: the consultations matching ``q`` when there are at most ``most``, else
    None. The planner cannot tell a rare word from a common one (the tsvector statistics keep
    only the frequent tokens), and for a rare one it walks the newest-first index checking
    every row — seconds on a year of chats — where the GIN index finds the few at once. So
    the index is asked first, with a cap (sequential scans off for that one statement); many
    hits go the ordinary way, where newest-first finds a page quickly."""
    most = FEW_HITS if most is None else most
    conds, params = _ts_conditions(q)
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        rows = await session.execute(
            text(f"SELECT s.consultation_id FROM transcript_search s WHERE {conds} LIMIT :most"),  # noqa: S608 (only placeholders)
            {**params, "most": most + 1},
        )
        found = [int(r[0]) for r in rows]
    finally:
        await session.execute(text("SET LOCAL enable_seqscan = on"))
    return found if len(found) <= most else None


def highlight(body: str, q: Query, *, width: int = 60, most: int = 3) -> list[list[Any]]:
    """Up to ``most`` snippets of ``body`` around the query's terms, each a list of
    ``[text, is_hit]`` pieces (clients render them as text, never as markup)."""
    if not q.terms:
        return []
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(q.terms, key=len, reverse=True)), re.I
    )
    hits = [m.span() for m in pattern.finditer(body)]
    snippets: list[list[Any]] = []
    last_end = -1
    for start, end in hits:
        if start < last_end:
            continue
        a, b = max(0, start - width), min(len(body), end + width)
        pieces: list[Any] = []
        at = a
        for m in pattern.finditer(body, a, b):
            if m.start() > at:
                pieces.append([body[at : m.start()], False])
            pieces.append([m.group(), True])
            at = m.end()
        if at < b:
            pieces.append([body[at:b], False])
        if a > 0:
            pieces.insert(0, ["…", False])
        if b < len(body):
            pieces.append(["…", False])
        snippets.append(pieces)
        last_end = b
        if len(snippets) >= most:
            break
    return snippets
