"""Mail to readers: the answer to their ticket, when the desk has SMTP configured.

The mail carries the answer and the link to the ticket's page; it goes out after the answer
is committed, and a failure is logged and leaves the answer on the page (``emailed_at`` stays
unset), never undoing the reply.
"""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage

import aiosmtplib
from sqlalchemy import select, update

from desk.backlog.rules import template_language
from desk.context import Desk
from desk.models import LedgerEntry, Library, Ticket

log = logging.getLogger(__name__)

_SUBJECT = {
    "zh-CN": "您的咨询已答复（编号 {number}）",
    "en": "Your question has been answered (no. {number})",
}
#: Files attached to the answer mail at most, together; larger ones wait on the ticket's page.
MAIL_ATTACH_BYTES = 10 * 1024 * 1024

_DOCS = {
    "zh-CN": ("\n\n随答复提供的文献：\n{items}", "（附件）", "（文件较大，请在咨询页面下载）"),
    "en": (
        "\n\nDocuments provided with the answer:\n{items}",
        " (attached)",
        " (large: download it from the page)",
    ),
}

_BODY = {
    "zh-CN": "您好！\n\n您在{library}提交的咨询（编号 {number}）已有答复：\n\n{answer}\n\n"
    "您也可以通过提交咨询时得到的链接随时查看。\n\n全国图书馆参考咨询联盟",
    "en": "Hello,\n\nyour question to {library} (no. {number}) has been answered:\n\n{answer}\n\n"
    "You can also read it at any time through the link you were given.\n\n"
    "The alliance's reference service",
}


async def send_answer(desk: Desk, ticket_id: int, to: str, language: str) -> bool:
    settings = desk.settings
    if not settings.smtp_host:
        return False
    async with desk.reads() as s:
        row = (
            await s.execute(
                select(Ticket.answer, Library.name, Library.name_en)
                .join(Library, Library.id == Ticket.library_id)
                .where(Ticket.id == ticket_id)
            )
        ).one_or_none()
    if row is None or not row[0]:
        return False
    answer, name, name_en = row
    lang = template_language(language)
    library = (name_en or name) if lang == "en" else name
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = _SUBJECT[lang].format(number=ticket_id)
    docs = await _documents(desk, ticket_id)
    attach = sum(e.size for e in docs if e.kind == "file") <= MAIL_ATTACH_BYTES
    listing = ""
    if docs:
        head, attached, later = _DOCS[lang]
        lines = []
        for e in docs:
            note = e.url if e.kind == "link" else (attached if attach else later)
            lines.append(f"- {e.title} {note}".rstrip())
        listing = head.format(items="\n".join(lines))
    msg.set_content(
        _BODY[lang].format(library=library, number=ticket_id, answer=f"{answer}{listing}")
    )
    if attach:
        for e in docs:
            path = desk.files.local_path(e.sha256) if e.kind == "file" else None
            if path is None:
                continue
            data = await asyncio.to_thread(path.read_bytes)
            main, _, sub = (e.content_type.split(";")[0] or "application/octet-stream").partition(
                "/"
            )
            msg.add_attachment(
                data, maintype=main, subtype=sub or "octet-stream", filename=e.file_name
            )
    try:
        await aiosmtplib.send(
            msg,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
            timeout=15,
        )
    except (aiosmtplib.SMTPException, OSError):
        # The address is personal data: log the ticket, never the address.
        log.warning("answer mail failed", extra={"ticket": ticket_id}, exc_info=True)
        return False
    async with desk.sessions.begin() as s:
        await s.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(emailed_at=desk_now(desk))
        )
    return True


async def _documents(desk: Desk, ticket_id: int) -> list[LedgerEntry]:
    async with desk.reads() as s:
        rows = await s.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.ticket_id == ticket_id, LedgerEntry.file_purged_at.is_(None))
            .order_by(LedgerEntry.id)
        )
        return list(rows)


def desk_now(desk: Desk):  # type: ignore[no-untyped-def]
    from desk.actions.consultations import timestamp

    return timestamp(desk.clock.now())


async def send_text(desk: Desk, to: str, subject: str, body: str) -> bool:
    """A plain mail to a reader (their transcript); False when it could not be sent."""
    settings = desk.settings
    if not settings.smtp_host:
        return False
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    try:
        await aiosmtplib.send(
            msg,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
            timeout=15,
        )
    except (aiosmtplib.SMTPException, OSError):
        log.warning("reader mail failed", exc_info=True)
        return False
    return True
