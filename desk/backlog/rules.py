"""The 72-hour rules of the reply norms, as pure functions.

For a **document request** (the reader wants specific documents):

1. Within 72 hours of submission, a consultant answers only with the very document asked for
   (``found``). One who cannot find it returns the ticket to the pool (退回任务) so that a
   colleague searches too; they may not answer "not found", nor with same-topic material.
2. After 72 hours unanswered, a reply with material on the same topic (``same_topic``) is
   allowed and must carry the norms' wording.
3. After 72 hours, when even that fails, "not found" (``not_found``) is allowed and must carry
   the norms' wording.

A **form consultation** (methods of retrieval and use, general knowledge) gets an ordinary
``answer``; the norms' form service takes no document requests (rule 6), which is why the two
kinds are kept apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from desk.errors import Conflict, InvalidPayload

WINDOW = timedelta(hours=72)

#: The norms' wording, verbatim, and an English rendering for tickets in English.
SAME_TOPIC = {
    "zh-CN": "经两天的检索，咨询员均没有在本馆和合作馆中找到您指定的文献原文。"
    "现提供主题和内容相同的文献，供参考。抱歉！",
    "en": "After two days of searching, our consultants could not find the document you "
    "asked for in this library or its partner libraries. Here are documents on the same "
    "topic, for your reference. We are sorry!",
}
NOT_FOUND = {
    "zh-CN": "经检索，咨询员均没有在本馆和合作馆中找到您指定的文献原文。实在抱歉！",
    "en": "After searching, our consultants could not find the document you asked for in "
    "this library or its partner libraries. We are very sorry!",
}

ANSWER_KINDS = {"form": ("answer",), "document": ("found", "same_topic", "not_found")}


def template_language(language: str) -> str:
    return "en" if language.split("-")[0].lower() == "en" else "zh-CN"


def required_wording(answer_kind: str, language: str) -> str | None:
    lang = template_language(language)
    if answer_kind == "same_topic":
        return SAME_TOPIC[lang]
    if answer_kind == "not_found":
        return NOT_FOUND[lang]
    return None


def past_window(submitted_at: datetime, now: datetime) -> bool:
    return now - submitted_at >= WINDOW


def final_answer(
    *,
    kind: str,
    answer_kind: str,
    answer: str,
    language: str,
    submitted_at: datetime,
    now: datetime,
) -> str:
    """The reply as the reader will get it, or an error saying which rule it breaks. The
    norms' wording is put first when the consultant left it out."""
    allowed = ANSWER_KINDS.get(kind, ())
    if answer_kind not in allowed:
        raise InvalidPayload(
            f"a {kind} ticket is answered as {' or '.join(allowed)}", code="wrong_answer_kind"
        )
    if answer_kind in ("same_topic", "not_found") and not past_window(submitted_at, now):
        raise Conflict(
            "within 72 hours of submission a document not found goes back to the pool "
            "(退回任务); same-topic material or 'not found' only after 72 hours",
            code="within_72_hours",
        )
    wording = required_wording(answer_kind, language)
    text = answer.strip()
    if wording is not None and wording not in text:
        text = f"{wording}\n\n{text}" if text else wording
    return text
