"""The quality inspectors' checklists.

Backlog replies are graded by 咨询回复质量检查标准: each of its cases is a criterion under the
grade it leads to (the alliance's own wording, with an English rendering). Live consultations
are checked against the six rules of 实时咨询服务规范: the inspector ticks the rules the chat
kept, and the rules it broke explain a lower grade.
"""

from __future__ import annotations

from desk.errors import InvalidPayload

#: code -> (grade, zh-CN, en)
REPLY_CRITERIA: dict[str, tuple[str, str, str]] = {
    "E1": (
        "excellent",
        "在72小时内找到读者指定的原文（题目、作者、文献出处、出版时间与咨询题目完全一致），"
        "以附件方式进行回复，并使用常用语",
        "Found the exact document within 72 hours, sent as an attachment with the standard wording",
    ),
    "E2": (
        "excellent",
        "在72小时内找到并以附件方式提供了读者指定的原文，由于系统原因修改了附件文件名，"
        "但打开文件与读者需求一致",
        "Found and attached the exact document within 72 hours; the file name was changed "
        "but the file is what the reader asked for",
    ),
    "E3": (
        "excellent",
        "在72小时内找到读者指定的原文，并提供了经验证在互联网上可以打开的原文链接",
        "Found the exact document within 72 hours and gave a link verified to open on the internet",
    ),
    "E4": (
        "excellent",
        "在72小时内找到读者指定的原文，并以邮件正文方式提供了文献",
        "Found the exact document within 72 hours and gave it in the body of the mail",
    ),
    "E5": (
        "excellent",
        "在72小时内没有找到指定原文，不做退回任务处理，但正确提供了相同主题、内容文献，"
        "并得到读者“满意”评价",
        "Not found within 72 hours, not returned, but correct same-topic material given and "
        "rated satisfied by the reader",
    ),
    "P1": (
        "pass",
        "超过72小时没有找到指定原文，经扩大检索范围，用主题和内容相同的文献回复，并使用常用语",
        "After 72 hours, a wider search, same-topic material with the standard wording",
    ),
    "P2": (
        "pass",
        "超过72小时扩大范围检索仍没有找到，也没有相同主题和内容的，回复“没有找到”并填写规定用语",
        "After 72 hours and a wider search, nothing found, answered 'not found' with the "
        "required wording",
    ),
    "P3": (
        "pass",
        "在72小时内没有找到指定原文，不做退回任务处理，但正确提供了相同主题、内容文献，"
        "读者没有做出评价",
        "Not found within 72 hours, not returned, correct same-topic material given, no "
        "rating from the reader",
    ),
    "P4": (
        "pass",
        "在72小时内找到指定原文，但数据库只有题录而没有全文，不做退回任务处理而正确提供了相同主题文献",
        "Found within 72 hours but only the citation exists, not returned, correct same-topic "
        "material given",
    ),
    "F1": (
        "fail",
        "在72小时内没有找到指定原文，不做退回任务处理而回答“没有找到”",
        "Not found within 72 hours and answered 'not found' instead of returning the ticket",
    ),
    "F2": (
        "fail",
        "问非所答，提供的文献与读者要求风马牛不相及",
        "The answer or the documents have nothing to do with the question",
    ),
    "F3": (
        "fail",
        "没有提供学位论文全文而只提供文摘",
        "Gave only the abstract of a thesis, not its full text",
    ),
    "F4": (
        "fail",
        "提供的原文链接经检验在互联网上打不开",
        "A link given does not open on the internet",
    ),
}

#: The six rules of live service: code -> (zh-CN, en).
LIVE_CRITERIA: dict[str, tuple[str, str]] = {
    "L1": (
        "快速及时响应：第一时间响应，忙时告知等候时间",
        "Prompt response; the wait told when busy",
    ),
    "L2": ("服务范畴告知：正式解答前告知实时咨询的解答范畴", "The service's scope told first"),
    "L3": (
        "注意服务礼仪：态度平和友好，安抚情绪，避免滥用术语或简略语",
        "Courtesy: calm and friendly, no jargon or abbreviations",
    ),
    "L4": (
        "服务方式切换：不宜实时解答的问题建议表单或电话咨询",
        "Switched to the form or phone service when live chat could not serve",
    ),
    "L5": (
        "统计文献传递数量并收集典型案例",
        "Documents delivered recorded; typical case noted",
    ),
    "L6": ("隐私保护：不泄露读者个人信息", "Privacy: nothing of the reader's disclosed"),
}


def check(target: str, grade: str, criteria: list[str], comment: str) -> list[str]:
    """The criteria of a grade, checked; raises with the reason when they don't fit."""
    seen: list[str] = []
    for c in criteria:
        if c not in seen:
            seen.append(c)
    if target == "ticket":
        unknown = [c for c in seen if c not in REPLY_CRITERIA]
        if unknown:
            raise InvalidPayload(f"unknown criteria: {', '.join(unknown)}", code="bad_criteria")
        wrong = [c for c in seen if REPLY_CRITERIA[c][0] != grade]
        if wrong:
            raise InvalidPayload(
                f"criteria {', '.join(wrong)} belong to another grade", code="bad_criteria"
            )
        if not seen and not comment.strip():
            raise InvalidPayload(
                "name a case of the standard or say why in a comment", code="grade_reason_missing"
            )
    else:
        unknown = [c for c in seen if c not in LIVE_CRITERIA]
        if unknown:
            raise InvalidPayload(f"unknown criteria: {', '.join(unknown)}", code="bad_criteria")
    if grade == "fail" and not comment.strip():
        raise InvalidPayload(
            "a fail says what to improve in a comment", code="grade_reason_missing"
        )
    return seen


def checklist() -> dict[str, list[dict[str, str]]]:
    """Both checklists, for the console."""
    return {
        "ticket": [
            {"code": code, "grade": g, "zh-CN": zh, "en": en}
            for code, (g, zh, en) in REPLY_CRITERIA.items()
        ],
        "consultation": [
            {"code": code, "zh-CN": zh, "en": en} for code, (zh, en) in LIVE_CRITERIA.items()
        ],
    }
