"""What the bots say: default templates per language, taken from the alliance's norms of live
service, which a library may override (``bot_texts``).

Templates use ``{name}`` placeholders; each key lists the ones it may use. A stored template
that no longer renders (edited badly before validation existed, say) falls back to the default
instead of leaving a reader without an answer.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

LANGUAGES = ("zh-CN", "en")

#: key -> (placeholders allowed, {language: default text})
TEMPLATES: dict[str, tuple[frozenset[str], dict[str, str]]] = {
    "greeting": (
        frozenset({"library"}),
        {
            "zh-CN": "您好，欢迎使用{library}实时咨询！本服务解答事实性咨询、"
            "您在使用联盟平台过程中遇到的问题，并提供少量文献传递。"
            "需要大量查找文献或深入研究的问题，建议使用表单咨询，咨询员将在72小时内回复。"
            "咨询员马上为您服务。",
            "en": "Hello, and welcome to the live reference service of {library}. We answer "
            "factual questions and questions about using the alliance's platform, and can send "
            "a small number of documents. Questions that need extensive searching or research "
            "are better left in the form consultation service, answered within 72 hours. A "
            "consultant will be with you shortly.",
        },
    ),
    "queue_position": (
        frozenset({"ahead", "position", "minutes"}),
        {
            "zh-CN": "咨询员正在为其他读者服务。您前面还有{ahead}位读者，预计等待约{minutes}分钟，"
            "请稍候。",
            "en": "Our consultants are helping other readers. Readers ahead of you: {ahead}. "
            "Expected wait: about {minutes} min. Please stay with us.",
        },
    ),
    "queue_next": (
        frozenset({"minutes"}),
        {
            "zh-CN": "您已排在第一位，预计等待约{minutes}分钟，咨询员一有空闲就会为您服务。",
            "en": "You are next in line; expected wait about {minutes} min. The first "
            "consultant to become free will join you.",
        },
    ),
    "long_wait": (
        frozenset({"minutes", "phone_hint"}),
        {
            "zh-CN": "当前排队时间较长（预计约{minutes}分钟）。您可以继续等待，也可以留下问题转为"
            "表单咨询，咨询员将在72小时内回复{phone_hint}。",
            "en": "The wait is long right now (about {minutes} min). You may keep waiting, or "
            "leave your question in the form consultation service, answered within 72 "
            "hours{phone_hint}.",
        },
    ),
    "nobody_online": (
        frozenset({"phone_hint"}),
        {
            "zh-CN": "目前暂无可为您服务的咨询员在线。您可以稍候，也可以留下问题转为表单咨询，"
            "咨询员将在72小时内回复{phone_hint}。",
            "en": "No consultant who can serve you is online right now. You may wait, or leave "
            "your question in the form consultation service, answered within 72 hours"
            "{phone_hint}.",
        },
    ),
    "faq_answer": (
        frozenset({"question", "answer"}),
        {
            "zh-CN": "【自动回答】您的问题可能与“{question}”有关：\n{answer}\n"
            "这是根据常见问题自动给出的回答，咨询员仍会为您服务，请稍候。",
            "en": "[Automatic answer] Your question may be about \u201c{question}\u201d:\n"
            "{answer}\n"
            "This answer was chosen from our frequently asked questions; a consultant will "
            "still be with you, please stay with us.",
        },
    ),
}

_PHONE_HINT = {"zh-CN": "；也可以致电{phone}咨询", "en": "; or call the library on {phone}"}


def language_of(tag: str) -> str:
    """The template language for a consultation language: zh-CN unless it is English."""
    return "en" if tag.split("-")[0].lower() == "en" else "zh-CN"


def phone_hint(phone: str, language: str) -> str:
    return _PHONE_HINT[language_of(language)].format(phone=phone) if phone.strip() else ""


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields a template uses; ValueError when its braces are malformed."""
    names = set()
    for _literal, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(f"unsupported placeholder {{{field}}}")
        names.add(field)
    return names


def check_template(key: str, body: str) -> None:
    """Raise ValueError with a reason when ``body`` is not a usable template for ``key``."""
    if key not in TEMPLATES:
        raise ValueError(f"unknown bot text {key}")
    allowed = TEMPLATES[key][0]
    unknown = placeholders(body) - allowed
    if unknown:
        raise ValueError(
            f"unknown placeholder(s) {', '.join(sorted(unknown))}; "
            f"{key} may use {', '.join(sorted(allowed)) or 'none'}"
        )


def render(
    key: str, language: str, values: Mapping[str, object], override: str | None = None
) -> str:
    lang = language_of(language)
    default = TEMPLATES[key][1][lang]
    if override:
        try:
            check_template(key, override)
            return override.format_map(dict(values))
        except (ValueError, KeyError, IndexError):
            pass
    return default.format_map(dict(values))
