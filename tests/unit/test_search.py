"""The transcript search's tokens, queries and highlighting (pure functions)."""

from __future__ import annotations

from transcripts.search import chars, grams, highlight, match_clause, parse


def test_grams_are_cjk_bigrams_and_lowercased_words_in_order() -> None:
    assert grams("学位论文 SCI2019, Web of Science") == [
        "学位",
        "位论",
        "论文",
        "sci2019",
        "web",
        "of",
        "science",
    ]
    assert grams("书") == ["书"]
    assert chars("学位 a 论") == ["学", "位", "论"]


def test_queries() -> None:
    q = parse('查收查引  "web of science" 书')
    assert q.phrases == [["查收", "收查", "查引"], ["web", "of", "science"]]
    assert q.singles == ["书"]
    assert parse("  ,, ").empty
    clause, params = match_clause("sqlite", q)
    assert params["fts"] == 'grams : "查收 收查 查引" AND grams : "web of science" AND chars : "书"'
    clause, params = match_clause("postgresql", q)
    assert params == {"g0": "查收 <-> 收查 <-> 查引", "g1": "web <-> of <-> science", "c0": "书"}


def test_a_query_cannot_break_out_of_its_phrase() -> None:
    q = parse('a" OR 1=1 -- "b')
    clause, params = match_clause("sqlite", q)
    assert '"' not in params["fts"].replace('grams : "', "").replace('" AND ', " ").rstrip('"')


def test_highlight_gives_text_pieces() -> None:
    body = "reader\t请问查收查引怎么办理？\nconsultant\t查收查引在科技查新站办理。"
    snips = highlight(body, parse("查收查引"), width=5)
    assert snips[0][1] == ["查收查引", True] or ["查收查引", True] in snips[0]
    assert all(isinstance(p[0], str) and isinstance(p[1], bool) for s in snips for p in s)
    assert highlight(body, parse("")) == []
