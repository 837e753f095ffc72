"""Personal data readers type, found and masked (norm 6 of live service: 隐私保护).

Rules, not a model: each kind of personal data has a pattern, and the softer kinds (names,
institutions, student numbers) need the words people use to give them ("我叫…", "我在…大学",
"学号…", "my name is …"), so a consultant's "北京大学出版社" as a source is not a reader's
institution. Identity card numbers must carry a valid check digit and birth date. The
labelled set in ``tests/data/pii_labelled.json`` measures it (``bench/pii_eval.py``).

``mask`` replaces each finding with a bracketed label (〔电话〕, 〔姓名〕, ...), the same in
every view and export, so a masked transcript still reads naturally.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

#: Kinds, with the label that replaces them.
LABELS = {
    "phone": "电话",
    "email": "邮箱",
    "id_card": "身份证号",
    "student_no": "学号/证号",
    "qq": "QQ号",
    "wechat": "微信号",
    "name": "姓名",
    "institution": "单位",
}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str


# The hundred most common Chinese surnames (and a few two-character ones): a name given after
# "我叫" must start with one, which keeps "我叫外卖" out.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_COMPOUND = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐")
# Words that follow "我是" without being a name.
_NOT_NAMES = set("读者学生老师同学研究生本科生博士硕士新用户")

_CJK = r"\u4e00-\u9fff"
_ORG_END = (
    "大学|学院|研究所|研究院|研究中心|医院|中学|小学|高中|职业技术学院|党校|公司|集团|银行|"
    "出版社|报社|杂志社|设计院|科学院|事务所|图书馆|档案馆|博物馆|实验室|局|厅|委员会"
)

_ROLE = (
    r"研究生|学生|本科生|博士生|硕士生|博士后|博士|硕士|老师|教师|教授|讲师|员工|职工|医生|护士|"
    r"工程师|馆员|研究员|访问学者"
)
_EN_ORG_END = (
    r"University|Uni|College|Institute|Hospital|School|Academy|Company|Corporation|Corp\.?|"
    r"Inc\.?|Ltd\.?|Library|Laboratory|Lab|Airport|Bank|Group|Press|Museum|Bureau|Centre|Center"
)
_CAP = r"[A-Z][\w&.'-]*"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    (
        "id_card",
        re.compile(r"(?<![0-9A-Za-z])(?:\d{6}\s?\d{8}\s?\d{3}[\dXx]|\d{15})(?![0-9A-Za-z])"),
    ),
    (
        "phone",
        re.compile(
            r"(?<![\d+])(?:(?:\+|00)?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)"  # mobile
            # landlines: 020-83301234, 0757-8231 5096, (0755) 2601 3389, +86 20 8411 2345
            r"|(?<!\d)(?:\(0\d{2,3}\)\s?|0\d{2,3}[- ]|(?:\+|00)86[- ]\d{2,3}[- ])"
            r"\d{3,4}[- ]?\d{4}(?:-\d{1,5})?(?!\d)"
        ),
    ),
    (
        "qq",
        re.compile(
            r"(?:QQ|qq|Qq|扣扣)\s*(?:号码|号|number|no\.?)?\s*(?:是|为|:|is)?\s*"
            r"(?P<v>[1-9]\d{4,10})(?!\d)"
        ),
    ),
    (
        "wechat",
        re.compile(
            r"(?:(?:微信|WeChat|wechat|Wechat|vx|VX|wx)\s*(?:号|ID|id)?[^\w\n]{0,3}?"
            r"(?:是|为|:|is|吧)?\s*|\b[Vv]\s*:\s*)"
            r"(?P<v>[A-Za-z][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9@.])"
        ),
    ),
    (
        "student_no",
        re.compile(
            r"(?:学号|工号|学籍号|读者证号?|借书证号?|借阅证号?|校园卡号?|一卡通号?|证件号|卡号"
            r"|(?:student|staff|employee|reader)\s+(?:id|number|no\.?|card(?:\s+(?:number|no\.?))?)"
            r"|(?:library|campus|reader)\s+card(?:\s+(?:number|no\.?))?)"
            r"\s*(?:是|为|:|is|#)?\s*"
            r"(?P<v>[A-Za-z]{0,3}-?\d(?:[\d-]|\s(?=\d)){3,18}\d)(?![\d-])",
            re.IGNORECASE,
        ),
    ),
    (
        "name",
        re.compile(
            rf"(?:我叫|我的名字是|我的名字叫|本人叫|本人是|本人姓|我姓名是|我姓|全名(?:是|叫)?|本人"
            rf"|姓名[:是为]\s*|联系人[:]\s*|我是|(?:爸爸|妈妈|父亲|母亲|孩子|同学|朋友|导师)叫"
            rf"|(?:{_ROLE})(?=[{_CJK}]{{2,4}}(?:[，,。；;\s]|$)))"
            rf"(?P<v>[{_CJK}]{{1,4}})"
        ),
    ),
    (
        # "刘老师（刘慧敏）": the full name after a form of address.
        "name",
        re.compile(rf"(?:老师|同学|先生|女士|主任)[(（](?P<v>[{_CJK}]{{2,4}})[)）]"),
    ),
    (
        # "…，华南理工大学的研究生", "中山大学历史系的博士生": an institution (without the
        # department) and the reader's role in it.
        "institution_role",
        re.compile(
            rf"(?P<v>[{_CJK}A-Za-z0-9]{{2,20}}(?:{_ORG_END}))"
            rf"(?:[{_CJK}]{{1,8}}?(?:系|院|所|科|部|中心|专业|实验室|课题组))?的?(?:{_ROLE})"
        ),
    ),
    (
        # A reader addressed by the consultant: "张伟同学", "王女士".
        "addressed",
        re.compile(rf"(?P<v>[{_CJK}]{{1,5}})(?:同学|先生|女士|小姐)"),
    ),
    (
        "name",
        re.compile(
            r"(?:[Mm]y name is|[Mm]y name's|I am called|[Tt]his is|[Nn]ame:)\s+"
            r"(?P<v>[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})"
        ),
    ),
    (
        "name",
        re.compile(
            r"\bI(?:'m| am)\s+(?P<v>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"
            r"(?:,|\.|\s+(?:from|at|and|a|an|the|with)\b)"
        ),
    ),
    (
        "name",
        re.compile(
            r"\b(?:[Mm]y\s+(?:colleague|friend|supervisor|advisor|adviser|classmate|tutor|son|"
            r"daughter|wife|husband|mother|father)|Prof\.?|Professor|Dr\.?|Mr\.?|Ms\.?|Mrs\.?)"
            r"\s+(?P<v>[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})"
        ),
    ),
    (
        "institution",
        re.compile(
            rf"(?:我是来自|我来自|我在|我是|本人在|本人来自|本人是|我们是|我们在|我就读于|我就职于"
            rf"|我工作的单位是|我的单位是|单位[:是]\s*|[，,]\s*(?:在|来自|是))"
            rf"(?P<v>[{_CJK}A-Za-z0-9()]{{2,24}}(?:{_ORG_END}))"
        ),
    ),
    (
        # "I'm with Tencent", "I work at Guangzhou Baiyun International Airport".
        "institution",
        re.compile(
            rf"\bI(?:'m| am)?\s+(?:with|at|work\s+(?:at|for)|study\s+at|working\s+(?:at|for))\s+"
            rf"(?P<v>(?:the\s+)?{_CAP}(?:\s+(?:of\s+|and\s+)?{_CAP}){{0,6}})"
        ),
    ),
    (
        # "a researcher at Jinan University", "from the University of Hong Kong".
        "institution_en",
        re.compile(
            rf"\b(?:at|from|with|in)\s+(?P<v>(?:the\s+)?(?:{_CAP}\s+){{0,6}}(?:{_EN_ORG_END})"
            rf"(?:\s+of(?:\s+{_CAP}){{1,5}})?)"
        ),
    ),
    (
        # "School of Medicine, Shenzhen University": the university, not the school.
        "institution",
        re.compile(
            rf"\b(?:School|Faculty|Department|College)\s+of\s+[\w ]+,\s*"
            rf"(?P<v>(?:{_CAP}\s+){{1,5}}(?:University|College|Institute))"
        ),
    ),
]

#: Mailboxes of services, not of people.
_ROLE_MAILBOXES = re.compile(
    r"^(?:ill|dd|ref|reference|service|services|info|library|lib|admin|contact|help|support|"
    r"zixun|webmaster|office|noreply|no-reply|postmaster|desk|circulation)@",
    re.IGNORECASE,
)
#: Words after "I'm" that are not names.
_NOT_EN_NAMES = frozenset(
    {
        "Chinese",
        "English",
        "American",
        "British",
        "Sorry",
        "Not",
        "Looking",
        "Here",
        "Interested",
        "New",
        "Trying",
        "Just",
        "Still",
        "Really",
        "Very",
        "Also",
        "Currently",
        "Writing",
        "Working",
        "Studying",
        "Doing",
        "Using",
        "Having",
        "Going",
        "Glad",
        "Happy",
        "Afraid",
        "Unable",
        "Able",
        "Sure",
    }
)
#: Fullwidth letters, digits and signs read as their ASCII forms (one for one, so positions
#: in the text stay the same).
_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _valid_birth(y: int, m: int, d: int) -> bool:
    try:
        born = date(y, m, d)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def valid_id_card(v: str) -> bool:
    """A mainland resident identity card number: region, birth date, and check digit (18),
    or region and birth date (the old 15-digit form)."""
    if len(v) == 18:
        if not v[:17].isdecimal():
            return False
        total = sum(int(c) * w for c, w in zip(v[:17], _ID_WEIGHTS, strict=True))
        if _ID_CHECK[total % 11] != v[17].upper():
            return False
        return _valid_birth(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    if len(v) == 15 and v.isdecimal():
        return _valid_birth(1900 + int(v[6:8]), int(v[8:10]), int(v[10:12]))
    return False


def _name_ok(v: str) -> str | None:
    """The name part of what follows "我叫/我是": a surname and one or two given characters."""
    for comp in _COMPOUND:
        if v.startswith(comp):
            return v[: min(len(v), 4)] if len(v) >= 3 else None
    if v[0] not in _SURNAMES or v[:2] in _NOT_NAMES or v[1] in _NOT_NAMES:
        return None
    # "我是张老师" / "我叫李明同学": the name ends before a title.
    for title in ("老师", "同学", "博士", "教授", "先生", "女士", "医生", "主任", "馆员"):
        i = v.find(title)
        if i >= 2:
            return v[:i]
        if i == 1:
            return None  # "我是王老师" names a consultant's colleague: too short to say
    return v[:3] if len(v) >= 3 else v


def _addressed(v: str) -> str | None:
    """The name at the end of the characters before a form of address: the longest ending
    (2 to 4 characters) that starts with a surname."""
    for n in (4, 3, 2, 1):
        tail = v[-n:]
        if len(tail) < n:
            continue
        if n == 1:
            # "王女士": a surname alone, when nothing of a word comes before it.
            return tail if len(v) == 1 and tail in _SURNAMES else None
        if any(tail.startswith(c) for c in _COMPOUND) and n >= 3:
            return tail
        if n <= 3 and tail[0] in _SURNAMES and tail[:2] not in _NOT_NAMES:
            return tail
    return None


def find(text: str, keep: Collection[str] = ()) -> list[Finding]:
    """Every piece of personal data in ``text``, in order, without overlaps (the earlier and
    longer one wins). ``keep``: public values that are never masked (the libraries' own
    phone numbers)."""
    found: list[Finding] = []
    plain = text.translate(_HALF)
    first_person = re.search(r"\b(?:I|I'm|my|me|we|our)\b", plain) is not None
    for kind, pat in _PATTERNS:
        for m in pat.finditer(plain):
            if "v" in pat.groupindex:
                start, end = m.span("v")
            else:
                start, end = m.span()
            value = text[start:end]
            if kind == "id_card" and not valid_id_card(re.sub(r"\s", "", plain[start:end])):
                continue
            if kind == "email" and _ROLE_MAILBOXES.match(value):
                continue
            if kind == "student_no" and re.fullmatch(r"97[89]\d{10}", re.sub(r"\D", "", value)):
                continue  # an ISBN
            if kind == "institution_en":
                if not first_person:
                    continue
                kind = "institution"
            if kind == "name" and value in _NOT_EN_NAMES:
                continue
            if kind == "institution_role":
                lead = re.match(r"(?:我们|我|本人)?(?:(?:是|在)?来自|是|在)", value)
                if lead:
                    value, start = value[lead.end() :], start + lead.end()
                elif value.startswith(("我", "本人")) or (
                    m.start() > 0 and text[m.start() - 1] not in "，,。；;：:、 \n"
                ):
                    continue
                if not re.search(r"我|本人", text[: m.end()]):
                    continue
                if len(value) < 4:
                    continue
                kind = "institution"
            if kind == "addressed":
                name = _addressed(value)
                if name is None:
                    continue
                kind, start, value = "name", end - len(name), name
            if kind == "name" and re.match(rf"[{_CJK}]", value):
                single = len(value) == 1 or (
                    m.group(0).startswith(("本人姓", "我姓"))
                    and not m.group(0).startswith("我姓名")
                )
                name = (
                    (value[:2] if value[:2] in _COMPOUND else value[0])
                    if single
                    else _name_ok(value)
                )
                if name is None or (single and name[0] not in _SURNAMES and name not in _COMPOUND):
                    continue
                value, end = name, start + len(name)
            if kind == "institution":
                stripped = value.removeprefix("the ").rstrip(" .")
                start, end = (
                    start + (len(value) - len(value.removeprefix("the "))),
                    start + (len(value) - len(value.removeprefix("the "))) + len(stripped),
                )
                value = stripped
            found.append(Finding(kind, start, end, value))
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    out: list[Finding] = []
    for f in found:
        if (out and f.start < out[-1].end) or f.text in keep:
            continue
        out.append(f)
    return out


def mask(text: str, keep: Collection[str] = ()) -> str:
    findings = find(text, keep)
    if not findings:
        return text
    parts = []
    at = 0
    for f in findings:
        parts.append(text[at : f.start])
        parts.append(f"〔{LABELS[f.kind]}〕")
        at = f.end
    parts.append(text[at:])
    return "".join(parts)
