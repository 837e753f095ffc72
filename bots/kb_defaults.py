"""The alliance-wide knowledge base the FAQ bot starts with (``kb_entries`` rows with
``library_id`` null), seeded by migration 0005. They describe the desk's own services and the
alliance platform only; what differs between member libraries (opening hours, cards, loans)
is referred to the reader's library. A library adds its own entries over the HTTP API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple


class DefaultEntry(NamedTuple):
    language: str
    question: str
    answer: str
    #: Other words readers use for the same thing: they help matching, readers never see them.
    keywords: str


DEFAULT_ENTRIES: tuple[DefaultEntry, ...] = (
    # -- zh-CN -----------------------------------------------------------------------------
    DefaultEntry(
        "zh-CN",
        "实时咨询可以解答哪些问题？",
        "实时咨询解答事实性咨询、您在使用联盟平台过程中遇到的问题，并提供少量文献传递。"
        "需要大量查找文献或深入研究的问题，建议使用表单咨询，咨询员将在72小时内回复。",
        "在线咨询 服务范围 能问什么 解答范围 咨询什么 帮什么忙 服务内容",
    ),
    DefaultEntry(
        "zh-CN",
        "什么是表单咨询？多久能得到回复？",
        "表单咨询是非实时的咨询服务：您在表单中留下问题和电子邮箱，咨询员会在72小时内通过"
        "邮件回复。适合需要较多时间查找的问题，或实时咨询员不在线的时候。",
        "留言 留下问题 邮件回复 非实时 多长时间 几天 回复时间 72小时 离线",
    ),
    DefaultEntry(
        "zh-CN",
        "文献传递怎么申请？",
        "请告诉咨询员您需要的文献：题名、作者、出处（刊名、年、卷期或出版社）越完整越好，"
        "并留下能收到邮件的电子邮箱。咨询员会把文献全文或部分页面发送到您的邮箱。"
        "文献传递只供个人学习研究使用，每次数量有限。",
        "传递 全文 原文 发送 邮箱 索取 帮我找 要一篇 文章 pdf 下载不了",
    ),
    DefaultEntry(
        "zh-CN",
        "文献传递的邮件收不到怎么办？",
        "请先查看邮箱的垃圾邮件或广告邮件文件夹，并确认留下的邮箱地址没有写错。邮件中的"
        "全文链接有有效期，请尽快下载。仍然收不到，请重新咨询并说明您的邮箱和所需文献。",
        "没收到 没有收到 收不到 邮件 垃圾邮件 链接 打不开 过期 失效 重新发送",
    ),
    DefaultEntry(
        "zh-CN",
        "需要注册账号才能咨询吗？",
        "不需要。访客可以直接开始咨询。您也可以在所在图书馆注册读者账号并登录，"
        "这样在不同设备上也能看到自己的咨询记录。",
        "注册 登录 账号 账户 帐号 用户名 密码 游客 访客 匿名",
    ),
    DefaultEntry(
        "zh-CN",
        "图书馆几点开门？开放时间是什么？",
        "各成员馆的开放时间不同，节假日也会调整。请查看您所在图书馆网站的“开放时间”或"
        "“入馆须知”页面；咨询员也可以帮您查询。",
        "开馆 闭馆 几点 关门 营业时间 周末 节假日 放假 开放",
    ),
    DefaultEntry(
        "zh-CN",
        "实时咨询什么时候有人在线？",
        "实时咨询在各成员馆的服务时间内有咨询员值守，联盟的咨询员也会互相补位。没有咨询员"
        "在线时，您可以留下问题转为表单咨询，咨询员将在72小时内回复。",
        "咨询员 在线 值班 服务时间 人工 没人 客服 晚上 上班",
    ),
    DefaultEntry(
        "zh-CN",
        "怎样获取学位论文全文？",
        "学位论文可以先在本馆订购的学位论文数据库中检索；一些学校的机构知识库也公开本校论文。"
        "查不到全文时，可以告诉咨询员论文题名、作者、授予单位和年份，申请文献传递。"
        "部分论文作者设置了保密期或不公开全文。",
        "硕士论文 博士论文 硕博论文 毕业论文 学位 论文全文 学位论文数据库",
    ),
    DefaultEntry(
        "zh-CN",
        "参考文献格式怎么写？",
        "国内期刊和学位论文一般使用国家标准 GB/T 7714—2015《信息与文献 参考文献著录规则》；"
        "外文期刊常用 APA、MLA、Chicago 等格式，请以投稿期刊或学校的要求为准。"
        "咨询员可以帮您核对具体条目的写法。",
        "引用 引文 著录 格式 参考文献 标注 gb 7714 apa mla 注释",
    ),
    DefaultEntry(
        "zh-CN",
        "怎样办理读者证或借书证？",
        "读者证（借书证）由各成员馆按本馆规定办理，所需证件和押金各不相同。"
        "请查看您所在图书馆网站的“办证须知”，或询问咨询员。",
        "办证 借阅证 读者卡 一卡通 押金 身份证 办卡",
    ),
    DefaultEntry(
        "zh-CN",
        "借的书怎么续借？",
        "续借一般在所在图书馆的馆藏目录（OPAC）或“我的图书馆”中登录后办理，"
        "续借次数和期限由各馆规定；已超期或被预约的图书可能不能续借。",
        "续借 还书 到期 超期 借期 延期 借阅期限 逾期",
    ),
    DefaultEntry(
        "zh-CN",
        "在校外或家里怎么访问数据库？",
        "数据库一般只对本馆读者开放。请使用所在图书馆提供的校外访问方式（如 VPN 或统一认证"
        "登录），具体方法见本馆网站的“校外访问”说明；没有访问权限的文献可以申请文献传递。",
        "校外 远程 在家 vpn 访问 数据库 登录不了 打不开 ip 权限",
    ),
    DefaultEntry(
        "zh-CN",
        "咨询收费吗？",
        "实时咨询和表单咨询都是免费的公益服务。",
        "收费 免费 要钱 费用 价格 付费 多少钱",
    ),
    DefaultEntry(
        "zh-CN",
        "怎样查找电子图书？",
        "可以在联盟平台或所在图书馆的检索系统中输入书名、作者或关键词检索图书，检索结果会"
        "标明能否在线阅读；需要其中的部分章节时，可以申请文献传递。",
        "电子书 找书 查书 图书 在线阅读 书名 检索 ebook",
    ),
    DefaultEntry(
        "zh-CN",
        "怎样查询论文被SCI、EI或CSSCI收录和引用的情况？",
        "查收录、查引用（查收查引）一般由高校和科研单位的图书馆提供并出具证明，请联系您所在"
        "单位的图书馆。咨询员可以告诉您自己检索的方法。",
        "查收查引 收录证明 引用 被引 检索证明 sci ei cssci 检索报告",
    ),
    DefaultEntry(
        "zh-CN",
        "以前的咨询记录在哪里看？",
        "登录读者账号后，可以在咨询窗口中看到您在本馆的咨询记录；访客在同一浏览器中重新打开"
        "咨询窗口，也能看到尚未结束的对话。",
        "历史记录 聊天记录 咨询记录 以前 之前 对话 保存",
    ),
    # -- en --------------------------------------------------------------------------------
    DefaultEntry(
        "en",
        "What questions does the live chat answer?",
        "Live chat answers factual questions and questions about using the alliance's "
        "platform, and can send a small number of documents. Questions that need extensive "
        "searching or research are better left in the form consultation service, answered "
        "within 72 hours.",
        "scope service help ask kind of questions what can you do",
    ),
    DefaultEntry(
        "en",
        "What is the form consultation and how long does a reply take?",
        "The form consultation is the non-real-time service: you leave your question and an "
        "e-mail address, and a consultant replies by e-mail within 72 hours. Use it for "
        "questions that need time, or when no consultant is online.",
        "leave a question message email reply offline 72 hours days wait answer later",
    ),
    DefaultEntry(
        "en",
        "How do I request document delivery?",
        "Tell the consultant which document you need - title, author and source (journal, "
        "year, volume and issue, or publisher), as complete as you can - and leave an e-mail "
        "address. The consultant sends the full text or the pages you need to that address. "
        "Delivered documents are for personal study and research only, in small numbers.",
        "send me article paper full text pdf copy get a document delivery email",
    ),
    DefaultEntry(
        "en",
        "I did not receive the document delivery e-mail. What should I do?",
        "Please look in your spam or junk folder first, and check that the e-mail address you "
        "gave is correct. Download links in the e-mail expire, so download soon. If it still "
        "has not arrived, ask again with your e-mail address and the document you need.",
        "not received never arrived email missing spam junk link expired broken",
    ),
    DefaultEntry(
        "en",
        "Do I need an account to ask a question?",
        "No. Visitors can start a chat at once. You may also register a reader account at "
        "your library and log in, to see your past consultations on any device.",
        "register account sign up log in login password visitor anonymous",
    ),
    DefaultEntry(
        "en",
        "What are the library's opening hours?",
        "Opening hours differ between member libraries and change on holidays. Please see the "
        "opening hours page of your library's website, or ask a consultant to look them up.",
        "open close closing time hours weekend holiday when does",
    ),
    DefaultEntry(
        "en",
        "How can I get the full text of a thesis or dissertation?",
        "Search the thesis databases your library subscribes to first; many universities also "
        "publish their theses in an institutional repository. If the full text is not there, "
        "give the consultant the title, author, university and year to request document "
        "delivery. Some theses are embargoed or not released by their authors.",
        "thesis theses dissertation phd master doctoral full text",
    ),
    DefaultEntry(
        "en",
        "How should I format citations and references?",
        "Chinese journals and theses usually follow the national standard GB/T 7714-2015; "
        "journals in other languages often use APA, MLA or Chicago. Follow the style your "
        "journal or university asks for; a consultant can check a particular reference.",
        "citation cite reference bibliography style apa mla chicago gb 7714 format",
    ),
    DefaultEntry(
        "en",
        "How do I get a library card?",
        "Library cards are issued by each member library under its own rules; the documents "
        "and deposit needed differ. Please see your library's website or ask a consultant.",
        "library card reader card membership join borrow card deposit",
    ),
    DefaultEntry(
        "en",
        "How can I access the databases from home or off campus?",
        "Databases are usually licensed to your library's readers only. Use the off-campus "
        "access your library provides (such as a VPN or a single sign-on login), described on "
        "its website; for a document you cannot reach, ask for document delivery.",
        "remote access off campus home vpn proxy database login outside",
    ),
    DefaultEntry(
        "en",
        "Is the consultation service free?",
        "Yes. Live chat and the form consultation are free public services.",
        "free cost fee charge price pay money",
    ),
)


def default_rows(now: datetime) -> list[dict[str, Any]]:
    """The defaults as ``kb_entries`` rows (used by the migration and by tests)."""
    return [
        {
            "library_id": None,
            "language": e.language,
            "question": e.question,
            "answer": e.answer,
            "keywords": e.keywords,
            "source": "manual",
            "source_ref": None,
            "active": True,
            "created_at": now,
            "updated_at": now,
            "updated_by": None,
        }
        for e in DEFAULT_ENTRIES
    ]
