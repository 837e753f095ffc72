"""System messages the desk itself writes into a chat, per language (zh-CN first)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "transferred": {
        "zh-CN": "您的咨询已转接给咨询员{name}，请稍候。",
        "en": "Your question has been passed to {name}. Please wait a moment.",
    },
    "transferred_library": {
        "zh-CN": "您的咨询已转接至{library}，正在为您安排咨询员。",
        "en": "Your question has been passed to {library}; a consultant will join shortly.",
    },
    "handed_off": {
        "zh-CN": "您的问题已转为表单咨询（编号 {number}），咨询员将尽快答复，一般在72小时内。"
        "请保存此链接，随时查看进度和答复：{url}",
        "en": "Your question is now in the form consultation service (number {number}); a "
        "consultant will answer, usually within 72 hours. Keep this link to follow it and "
        "read the answer: {url}",
    },
    "requeued": {
        "zh-CN": "咨询员连接中断，正在为您重新安排咨询员，您的排位不变。",
        "en": "Your consultant lost their connection; we are finding another one for you first.",
    },
}


def text_for(key: str, language: str, **values: str) -> str:
    variants = TEXTS[key]
    base = language.split("-")[0].lower()
    template = variants.get(language) or variants.get(base) or variants["zh-CN"]
    return template.format(**values)
