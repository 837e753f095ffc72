"""What a file may be, what it is called, and how it is served: pure rules, no I/O.

A file is accepted by its extension's *family* (the library chooses which families its chats
take) and only when its first bytes agree with that extension: a page renamed ``x.pdf`` is
refused. Markup (HTML, SVG, XML) is never accepted under any name, so nothing the desk serves
can run in a browser; every download is an attachment, with ``nosniff``, in the type the desk
itself assigns to the extension.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from desk.errors import InvalidPayload


@dataclass(frozen=True, slots=True)
class Kind:
    family: str
    content_type: str
    #: The first bytes a real file of this kind has; None: checked as text, or (for formats
    #: without a fixed signature) only checked not to be markup.
    check: Callable[[bytes], bool] | None = None
    text: bool = False


def _starts(*magics: bytes) -> Callable[[bytes], bool]:
    return lambda head: any(head.startswith(m) for m in magics)


def _pdf(head: bytes) -> bool:
    # Some producers put a few bytes of junk before the header; readers accept 1 KiB of it.
    return b"%PDF-" in head[:1024]


def _webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _heif(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heif")


def _mobi(head: bytes) -> bool:
    return head[60:68] == b"BOOKMOBI"


_ZIP = _starts(b"PK\x03\x04")
_OLE = _starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")

KINDS: dict[str, Kind] = {
    ".pdf": Kind("pdf", "application/pdf", _pdf),
    ".png": Kind("image", "image/png", _starts(b"\x89PNG\r\n\x1a\n")),
    ".jpg": Kind("image", "image/jpeg", _starts(b"\xff\xd8\xff")),
    ".jpeg": Kind("image", "image/jpeg", _starts(b"\xff\xd8\xff")),
    ".gif": Kind("image", "image/gif", _starts(b"GIF87a", b"GIF89a")),
    ".webp": Kind("image", "image/webp", _webp),
    ".heic": Kind("image", "image/heic", _heif),
    ".heif": Kind("image", "image/heif", _heif),
    ".doc": Kind("office", "application/msword", _OLE),
    ".xls": Kind("office", "application/vnd.ms-excel", _OLE),
    ".ppt": Kind("office", "application/vnd.ms-powerpoint", _OLE),
    ".docx": Kind(
        "office", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP
    ),
    ".xlsx": Kind(
        "office", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP
    ),
    ".pptx": Kind(
        "office", "application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP
    ),
    ".odt": Kind("office", "application/vnd.oasis.opendocument.text", _ZIP),
    ".ods": Kind("office", "application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    ".odp": Kind("office", "application/vnd.oasis.opendocument.presentation", _ZIP),
    ".rtf": Kind("office", "application/rtf", _starts(b"{\\rtf")),
    # Citation lists and plain notes a reader may send.
    ".txt": Kind("text", "text/plain; charset=utf-8", text=True),
    ".csv": Kind("text", "text/csv; charset=utf-8", text=True),
    ".ris": Kind("text", "application/x-research-info-systems", text=True),
    ".bib": Kind("text", "application/x-bibtex", text=True),
    ".enw": Kind("text", "application/x-endnote-refer", text=True),
    # E-books and the Chinese full-text formats readers are given (CNKI's CAJ/KDH/NH,
    # SuperStar's PDG): no published signature for the latter, so they are only checked not
    # to be markup and are always served as opaque bytes.
    ".epub": Kind("ebook", "application/epub+zip", _ZIP),
    ".djvu": Kind("ebook", "image/vnd.djvu", _starts(b"AT&TFORM")),
    ".mobi": Kind("ebook", "application/x-mobipocket-ebook", _mobi),
    ".azw3": Kind("ebook", "application/vnd.amazon.ebook", _mobi),
    ".caj": Kind("ebook", "application/octet-stream"),
    ".kdh": Kind("ebook", "application/octet-stream"),
    ".nh": Kind("ebook", "application/octet-stream"),
    ".pdg": Kind("ebook", "application/octet-stream"),
    ".zip": Kind("archive", "application/zip", _ZIP),
    ".7z": Kind("archive", "application/x-7z-compressed", _starts(b"7z\xbc\xaf\x27\x1c")),
    ".rar": Kind("archive", "application/vnd.rar", _starts(b"Rar!\x1a\x07")),
}

FAMILIES = ("pdf", "image", "office", "text", "ebook", "archive")
#: What a library's chats take until its supervisors say otherwise (archives can carry
#: anything, so they are opt-in).
DEFAULT_FAMILIES = ("pdf", "image", "office", "text", "ebook")
DEFAULT_MAX_MB = 20
#: Raster images a console may show inline (never SVG).
INLINE_OK = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
#: Bytes of a file kept in memory to check its kind.
HEAD_BYTES = 4096
MAX_NAME_CHARS = 180

_MARKUP = re.compile(
    rb"^\s*<(?:!doctype|html|head|body|svg|\?xml|script|iframe|meta|link|style|object|embed)\b",
    re.IGNORECASE,
)


def extensions(families: tuple[str, ...] | list[str]) -> list[str]:
    return sorted(ext for ext, k in KINDS.items() if k.family in families)


def kind_of(name: str, families: tuple[str, ...] | list[str]) -> Kind:
    """The kind a file's name asks for, if the library takes it."""
    dot = name.rfind(".")
    ext = name[dot:].lower() if dot > 0 else ""
    kind = KINDS.get(ext)
    if kind is None or kind.family not in families:
        raise InvalidPayload(
            f"files of type {ext or '(none)'} are not accepted here",
            code="file_type_not_allowed",
            allowed=extensions(families),
        )
    return kind


def looks_like_markup(head: bytes) -> bool:
    body = head.removeprefix(b"\xef\xbb\xbf")
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        body = body[2:].replace(b"\x00", b"")
    return bool(_MARKUP.match(body))


def _is_text(head: bytes, *, complete: bool) -> bool:
    """UTF-8 or GB18030 text without NUL bytes. A cut-off head may end inside a character,
    so up to three trailing bytes are let go."""
    if b"\x00" in head:
        return False
    cuts = (0,) if complete else (0, 1, 2, 3)
    for enc in ("utf-8", "gb18030"):
        for cut in cuts:
            try:
                head[: len(head) - cut].decode(enc)
                return True
            except UnicodeDecodeError:
                continue
    return False


def check_content(kind: Kind, head: bytes, *, complete: bool) -> None:
    """Refuse a file whose first bytes do not agree with its name, or that is markup.
    ``complete``: ``head`` is the whole file."""
    bad = looks_like_markup(head)
    if not bad:
        if kind.text:
            bad = not _is_text(head, complete=complete)
        elif kind.check is not None:
            bad = not kind.check(head)
    if bad:
        raise InvalidPayload(
            "the file's content does not match its name", code="file_content_mismatch"
        )


_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}


def clean_name(raw: str) -> str:
    """A file name safe to show and to offer for download: no directories, no control or
    direction-changing characters, nothing a filesystem reserves, at most 180 characters with
    the extension kept (the reply norms allow a shortened attachment name)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if unicodedata.category(ch) in ("Zs", "Zl", "Zp") else ch
        for ch in name
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name:
        name = "file"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    ext = ext[:16]
    if stem.lower() in _RESERVED:
        stem = "_" + stem
    room = MAX_NAME_CHARS - (len(ext) + 1 if ext else 0)
    stem = stem[:room].rstrip(" .") or "file"
    return f"{stem}.{ext}" if ext else stem


def content_disposition(name: str, *, inline: bool = False) -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name."""
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
