"""Knowledge-base files: export to CSV or JSON, and the validation of an import, row by row.

CSV is UTF-8 with a byte-order mark (so that Excel, which many libraries edit such files in,
shows Chinese correctly) and a header row; an import accepts it with or without the mark. The
columns an import reads are ``language, question, answer, keywords, active``; the others an
export writes (``id, scope, source, source_ref, updated_at``) are ignored on the way back in, so
an export can be edited and imported again.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bots.kb import question_key

FORMATS = ("csv", "json")
#: What one import may hold: a library's whole knowledge base fits many times over.
MAX_IMPORT_ROWS = 2000
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
IMPORT_COLUMNS = ("language", "question", "answer", "keywords", "active")
EXPORT_COLUMNS = ("id", "scope", *IMPORT_COLUMNS, "source", "source_ref", "updated_at")
#: Written by an export, ignored by an import.
EXPORT_ONLY = frozenset(EXPORT_COLUMNS) - frozenset(IMPORT_COLUMNS) | {"editable"}
_TRUE = {"", "1", "true", "yes", "y", "是", "启用"}
_FALSE = {"0", "false", "no", "n", "否", "停用"}


class EntryFields(BaseModel):
    """The fields of an entry as an editor writes them (API body and import row)."""

    model_config = ConfigDict(extra="forbid")

    language: str = Field(pattern=LANGUAGE_PATTERN, max_length=16)
    question: str = Field(min_length=1, max_length=500)
    answer: str = Field(min_length=1, max_length=4000)
    keywords: str = Field("", max_length=1000)
    active: bool = True

    @field_validator("question", "answer")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    @field_validator("keywords", mode="before")
    @classmethod
    def _no_keywords(cls, v: Any) -> Any:
        return "" if v is None else v

    @field_validator("active", mode="before")
    @classmethod
    def _flag(cls, v: Any) -> Any:
        if isinstance(v, str):
            word = v.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
            raise ValueError("must be true or false")
        return v


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int
    field: str
    problem: str

    def to_client(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "problem": self.problem}


class ImportRefused(Exception):
    """The file as a whole cannot be read (format, encoding, header, size)."""


def _validate(numbered: Sequence[tuple[int, Any]]) -> tuple[list[EntryFields], list[RowProblem]]:
    if len(numbered) > MAX_IMPORT_ROWS:
        raise ImportRefused(f"at most {MAX_IMPORT_ROWS} rows per import")
    good: list[EntryFields] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for row, raw in numbered:
        if not isinstance(raw, dict):
            problems.append(RowProblem(row, "", "must be an object"))
            continue
        data = {k: v for k, v in raw.items() if k not in EXPORT_ONLY}
        try:
            entry = EntryFields.model_validate(data)
        except ValidationError as exc:
            problems += [
                RowProblem(row, ".".join(map(str, e["loc"])), e["msg"])
                for e in exc.errors(include_url=False, include_input=False)
            ]
            continue
        key = question_key(entry.language, entry.question)
        if key in seen:
            problems.append(
                RowProblem(row, "question", f"the same question and language as row {seen[key]}")
            )
            continue
        seen[key] = row
        good.append(entry)
    return good, problems


def parse_csv(data: bytes) -> tuple[list[EntryFields], list[RowProblem]]:
    """Rows are numbered as a spreadsheet shows them: the header is row 1."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused("the file is not UTF-8 text") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or ()]
    missing = [c for c in ("language", "question", "answer") if c not in header]
    if missing:
        raise ImportRefused(f"the header row lacks the column(s) {', '.join(missing)}")
    unknown = [h for h in header if h not in IMPORT_COLUMNS and h not in EXPORT_ONLY]
    if unknown:
        raise ImportRefused(f"unknown column(s) {', '.join(unknown)}")
    reader.fieldnames = header
    numbered: list[tuple[int, Any]] = []
    try:
        for i, row in enumerate(reader, 2):
            if None in row:
                numbered.append((i, "more cells than columns"))
                continue
            cells = {k: (v or "") for k, v in row.items()}
            if not any(c.strip() for c in cells.values()):
                continue  # a blank line
            numbered.append((i, cells))
    except csv.Error as exc:
        raise ImportRefused(f"the CSV cannot be read: {exc}") from exc
    good, problems = _validate([(i, r) for i, r in numbered if isinstance(r, dict)])
    problems += [RowProblem(i, "", str(r)) for i, r in numbered if not isinstance(r, dict)]
    return good, sorted(problems, key=lambda p: p.row)


def parse_json(data: bytes) -> tuple[list[EntryFields], list[RowProblem]]:
    """A list of entries, or ``{"entries": [...]}`` as an export writes; rows count from 1."""
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportRefused("the body is not valid JSON") from exc
    if isinstance(raw, dict) and isinstance(raw.get("entries"), list):
        raw = raw["entries"]
    if not isinstance(raw, list):
        raise ImportRefused('send a list of entries, or {"entries": [...]}')
    return _validate(list(enumerate(raw, 1)))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(entries: Sequence[dict[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for e in entries:
        writer.writerow([_cell(e.get(c)) for c in EXPORT_COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def to_json(entries: Sequence[dict[str, Any]]) -> bytes:
    rows = [{c: e.get(c) for c in EXPORT_COLUMNS} for e in entries]
    return json.dumps({"entries": rows}, ensure_ascii=False, indent=1).encode("utf-8")
