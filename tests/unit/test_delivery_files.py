"""What a delivered file may be, what it is called and how it is served: table tests."""

from __future__ import annotations

import pytest

from desk.delivery import files
from desk.errors import InvalidPayload

ALL = files.FAMILIES


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("论文.pdf", "论文.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\thesis.docx", "thesis.docx"),
        ("a\x00b\x07c.pdf", "abc.pdf"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("zero\u200bwidth.pdf", "zerowidth.pdf"),
        ("  spaced   out  .pdf  ", "spaced out.pdf"),
        ("...hidden", "hidden"),
        ("", "file"),
        ("...", "file"),
        ("nul.txt", "_nul.txt"),
        ("Lpt1", "_Lpt1"),
        ('a<b>c:d"e|f?g*h.pdf', "a_b_c_d_e_f_g_h.pdf"),
        ("x" * 300 + ".pdf", "x" * 176 + ".pdf"),
        ("name." + "e" * 40, "name." + "e" * 16),
        ("Ｅ\u0301.pdf", "Ｅ\u0301.pdf"),
    ],
)
def test_names_are_cleaned(raw: str, clean: str) -> None:
    assert files.clean_name(raw) == clean
    assert len(files.clean_name(raw)) <= files.MAX_NAME_CHARS


@pytest.mark.parametrize(
    ("name", "head", "ok"),
    [
        ("a.pdf", b"%PDF-1.7\n...", True),
        ("a.pdf", b"\r\n\r\n%PDF-1.4", True),
        ("a.pdf", b"<html><body>", False),
        ("a.PDF", b"%PDF-1.4", True),
        ("a.png", b"\x89PNG\r\n\x1a\n....", True),
        ("a.png", b"\xff\xd8\xff\xe0", False),
        ("a.jpg", b"\xff\xd8\xff\xe0", True),
        ("a.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", True),
        ("a.heic", b"\x00\x00\x00\x18ftypheic", True),
        ("a.docx", b"PK\x03\x04", True),
        ("a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", True),
        ("a.doc", b"PK\x03\x04", False),
        ("refs.ris", "TY  - JOUR\nTI  - 图书馆联盟\n".encode(), True),
        ("refs.txt", "中文参考文献".encode("gb18030"), True),
        ("refs.txt", b"\x00\x00\x00", False),
        ("refs.txt", b"\xef\xbb\xbf<!DOCTYPE html>", False),
        ("refs.csv", b"  <svg onload=x>", False),
        ("paper.caj", b"CAJ FILE....", True),
        ("paper.caj", b"<?xml version='1.0'?><svg/>", False),
        ("a.zip", b"PK\x03\x04", True),
    ],
)
def test_content_must_match_the_name(name: str, head: bytes, ok: bool) -> None:
    kind = files.kind_of(name, ALL)
    if ok:
        files.check_content(kind, head, complete=True)
    else:
        with pytest.raises(InvalidPayload) as e:
            files.check_content(kind, head, complete=True)
        assert e.value.code == "file_content_mismatch"


def test_a_cut_off_text_head_may_end_inside_a_character() -> None:
    head = ("文" * 2000).encode()[: files.HEAD_BYTES]  # cut in the middle of a character
    files.check_content(files.kind_of("a.txt", ALL), head, complete=False)
    # Bytes that are neither UTF-8 nor GB18030 are not text.
    with pytest.raises(InvalidPayload):
        files.check_content(files.kind_of("a.txt", ALL), b"\x80\xff\xfe\x81", complete=True)


@pytest.mark.parametrize(
    "name", ["a.svg", "a.html", "a.htm", "a.xml", "a.js", "a.exe", "noext", ".pdf"]
)
def test_never_accepted_names(name: str) -> None:
    with pytest.raises(InvalidPayload) as e:
        files.kind_of(name, ALL)
    assert e.value.code == "file_type_not_allowed"


def test_a_librarys_families_decide() -> None:
    assert files.kind_of("a.zip", ALL).family == "archive"
    with pytest.raises(InvalidPayload) as e:
        files.kind_of("a.zip", files.DEFAULT_FAMILIES)
    assert ".zip" not in e.value.details["allowed"] and ".pdf" in e.value.details["allowed"]


def test_content_disposition_carries_both_names_and_nothing_else() -> None:
    cd = files.content_disposition('报告 "终稿".pdf')
    assert cd.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A%20%22%E7%BB%88%E7%A8%BF%22.pdf" in cd
    ascii_part = cd.split(";")[1]
    assert ascii_part.count('"') == 2
    assert files.content_disposition("a.png", inline=True).startswith("inline;")
