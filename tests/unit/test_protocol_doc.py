"""Keeps docs/protocol.md, the typed catalogue, the socket handlers and the fan-out in step.

The document is parsed by its headings: under ``## Reader namespace /reader`` and
``## Console namespace /console`` every level-3 heading is a client event, written exactly as
``### `event.name` ``; under ``## Reader namespace: server events`` and
``## Console namespace: server events`` every level-3 heading is a server event.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from desk.protocol import (
    CONSOLE_EVENTS,
    CONSOLE_NAMESPACE,
    CONSOLE_SERVER_EVENTS,
    READER_EVENTS,
    READER_NAMESPACE,
    READER_SERVER_EVENTS,
)
from desk.sockets.console import ConsoleNamespace
from desk.sockets.reader import ReaderNamespace

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocol.md"
FANOUT = ROOT / "desk" / "fanout.py"
CODE_DIRS = (ROOT / "desk", ROOT / "transcripts", ROOT / "stats")

#: Level-2 headings that open an event section: (namespace, "client" | "server").
SECTIONS = {
    "## Reader namespace /reader": ("reader", "client"),
    "## Reader namespace: server events": ("reader", "server"),
    "## Console namespace /console": ("console", "client"),
    "## Console namespace: server events": ("console", "server"),
}
EVENT_HEADING = re.compile(r"^### `([A-Za-z0-9_.]+)`$")
#: Labelled paragraphs each event subsection must contain.
REQUIRED_LABELS = {
    "client": (
        "**Direction:** client → server",
        "**Payload:**",
        "**Acknowledgement:**",
        "**Errors:**",
    ),
    "server": ("**Direction:** server → client", "**Payload:**", "**When:**"),
}

# Parsed once, at import: CPython 3.11's ast.parse can fail spuriously ("AST constructor
# recursion depth mismatch") when called late in a long test session.
_TREES: dict[Path, ast.Module] = {
    path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for path in {FANOUT, *(p for d in CODE_DIRS for p in d.rglob("*.py"))}
}

NAMESPACE_CLASSES = {"reader": ReaderNamespace, "console": ConsoleNamespace}
CATALOGUE = {
    ("reader", "client"): set(READER_EVENTS),
    ("console", "client"): set(CONSOLE_EVENTS),
    ("reader", "server"): set(READER_SERVER_EVENTS),
    ("console", "server"): set(CONSOLE_SERVER_EVENTS),
}


# -- parsing the document ----------------------------------------------------------------------


@dataclass
class Section:
    headings: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    #: Event name -> the text of its subsection (up to the next heading of level 1-3).
    bodies: dict[str, list[str]] = field(default_factory=dict)


def _lines_outside_fences(text: str) -> Iterator[str]:
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            yield line.rstrip()


@cache
def parse_doc() -> dict[tuple[str, str], Section]:
    sections: dict[tuple[str, str], Section] = {}
    current: Section | None = None
    body: list[str] | None = None
    for line in _lines_outside_fences(DOC.read_text(encoding="utf-8")):
        if line.startswith("## ") or line.startswith("# "):
            body = None
            key = SECTIONS.get(line)
            current = None
            if key is not None:
                assert key not in sections, f"section {line!r} appears twice in {DOC.name}"
                current = sections[key] = Section()
            continue
        if line.startswith("### "):
            body = None
            if current is None:
                continue
            m = EVENT_HEADING.match(line)
            if m is None:
                current.malformed.append(line)
                continue
            name = m.group(1)
            current.headings.append(name)
            body = current.bodies.setdefault(name, [])
            continue
        if body is not None:
            body.append(line)
    return sections


def documented(namespace: str, side: str) -> set[str]:
    return set(parse_doc()[(namespace, side)].headings)


def diff(what: str, documented: Iterable[str], actual: Iterable[str]) -> str:
    doc, act = set(documented), set(actual)
    parts = [what]
    if act - doc:
        parts.append(f"  missing from {DOC.name}: {sorted(act - doc)}")
    if doc - act:
        parts.append(f"  documented but not in the code: {sorted(doc - act)}")
    return "\n".join(parts)


# -- the document's own shape ------------------------------------------------------------------


def test_all_event_sections_present() -> None:
    found = parse_doc()
    missing = [h for h, key in SECTIONS.items() if key not in found]
    assert not missing, f"{DOC.name} lacks the section headings {missing}"


@pytest.mark.parametrize("key", list(SECTIONS.values()), ids=lambda k: f"{k[0]}-{k[1]}")
def test_event_headings_well_formed_and_unique(key: tuple[str, str]) -> None:
    section = parse_doc()[key]
    assert not section.malformed, (
        f"level-3 headings in the {key[0]} {key[1]} section must read ### `event.name`; "
        f"these do not: {section.malformed}"
    )
    repeated = sorted({h for h in section.headings if section.headings.count(h) > 1})
    assert not repeated, f"events documented twice in the {key[0]} {key[1]} section: {repeated}"


@pytest.mark.parametrize("key", list(SECTIONS.values()), ids=lambda k: f"{k[0]}-{k[1]}")
def test_each_event_subsection_states_its_parts(key: tuple[str, str]) -> None:
    problems = []
    for name, lines in parse_doc()[key].bodies.items():
        text = "\n".join(lines)
        lacking = [label for label in REQUIRED_LABELS[key[1]] if label not in text]
        if lacking:
            problems.append(f"{name}: lacks {lacking}")
    assert not problems, f"incomplete {key[0]} {key[1]} event subsections:\n" + "\n".join(problems)


# -- (a), (b), (c): the document against the catalogue -----------------------------------------


@pytest.mark.parametrize("key", list(CATALOGUE), ids=lambda k: f"{k[0]}-{k[1]}")
def test_documented_events_match_catalogue(key: tuple[str, str]) -> None:
    namespace, side = key
    got = documented(namespace, side)
    want = CATALOGUE[key]
    assert got == want, diff(f"{namespace} {side} events differ from desk/protocol.py:", got, want)


# -- (d): the document against the namespace classes -------------------------------------------


def handler_name(event: str) -> str:
    return "on_" + event.replace(".", "_")


@pytest.mark.parametrize("namespace", list(NAMESPACE_CLASSES))
def test_namespace_handles_exactly_the_documented_events(namespace: str) -> None:
    cls = NAMESPACE_CLASSES[namespace]
    doc = documented(namespace, "client")
    assert set(cls.events) == doc, diff(
        f"{cls.__name__}.events differs from the documented {namespace} events:", doc, cls.events
    )
    missing = sorted(e for e in doc if not callable(getattr(cls, handler_name(e), None)))
    assert not missing, (
        f"{cls.__name__} has no handler for these documented events: "
        f"{[f'{e} -> {handler_name(e)}' for e in missing]}"
    )


@pytest.mark.parametrize("namespace", list(NAMESPACE_CLASSES))
def test_every_handler_is_documented(namespace: str) -> None:
    cls = NAMESPACE_CLASSES[namespace]
    expected = {handler_name(e) for e in documented(namespace, "client")}
    handlers = {
        name for name, member in inspect.getmembers(cls, callable) if name.startswith("on_")
    }
    undocumented = sorted(handlers - expected)
    assert not undocumented, (
        f"{cls.__name__} has handlers for events {DOC.name} does not document: {undocumented}"
    )


# -- (e): events emitted by desk/fanout.py -----------------------------------------------------


def _self_attr_call(node: ast.Call) -> str | None:
    """``self.name(...)`` -> ``name``; ``self.sio.emit(...)`` -> ``sio.emit``."""
    f = node.func
    if not isinstance(f, ast.Attribute):
        return None
    if isinstance(f.value, ast.Name) and f.value.id == "self":
        return f.attr
    if (
        isinstance(f.value, ast.Attribute)
        and isinstance(f.value.value, ast.Name)
        and f.value.value.id == "self"
    ):
        return f"{f.value.attr}.{f.attr}"
    return None


def _argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    if index < len(call.args):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _namespace_of(expr: ast.expr | None, aliases: dict[str, str]) -> str:
    """Resolve the ``namespace=`` of an emit to "reader" or "console"."""
    value: object = None
    if isinstance(expr, ast.Constant):
        value = expr.value
    elif isinstance(expr, ast.Name):
        value = {"READER_NAMESPACE": READER_NAMESPACE, "CONSOLE_NAMESPACE": CONSOLE_NAMESPACE}.get(
            aliases.get(expr.id, expr.id)
        )
    if value == READER_NAMESPACE:
        return "reader"
    if value == CONSOLE_NAMESPACE:
        return "console"
    raise AssertionError(
        f"{FANOUT.name}: cannot tell the namespace of an emit from "
        f"{ast.unparse(expr) if expr is not None else 'nothing'}"
    )


def fanout_emits() -> dict[str, set[str]]:
    """Event names emitted in desk/fanout.py, per namespace, read from its source."""
    tree = _TREES[FANOUT]
    aliases = {
        a.asname or a.name: a.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for a in node.names
    }
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]

    # Helpers such as ``_reader(self, reader_id, event, data)`` pass a parameter on as the event
    # of ``self.sio.emit``: find them and where their event parameter is.
    helpers: dict[str, tuple[str, int, str]] = {}
    direct: dict[str, set[str]] = {"reader": set(), "console": set()}
    for fn in functions:
        params = [a.arg for a in fn.args.args][1:]  # without self
        for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
            if _self_attr_call(call) != "sio.emit":
                continue
            event = _argument(call, 0, "event")
            target = next((k.value for k in call.keywords if k.arg == "namespace"), None)
            namespace = _namespace_of(target, aliases)
            if isinstance(event, ast.Constant) and isinstance(event.value, str):
                direct[namespace].add(event.value)
            elif isinstance(event, ast.Name) and event.id in params:
                helpers[fn.name] = (namespace, params.index(event.id), event.id)
            else:
                raise AssertionError(
                    f"{FANOUT.name}:{call.lineno}: emit with an event name that is neither a "
                    f"string literal nor a helper's parameter: {ast.unparse(call)}"
                )

    emitted = {k: set(v) for k, v in direct.items()}
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        name = _self_attr_call(call)
        if name not in helpers:
            continue
        namespace, index, param = helpers[name]
        event = _argument(call, index, param)
        if not (isinstance(event, ast.Constant) and isinstance(event.value, str)):
            raise AssertionError(
                f"{FANOUT.name}:{call.lineno}: {name}() called with a computed event name: "
                f"{ast.unparse(call)}"
            )
        emitted[namespace].add(event.value)
    return emitted


def test_fanout_is_understood() -> None:
    emitted = fanout_emits()
    assert emitted["reader"], f"found no event emitted to {READER_NAMESPACE} in {FANOUT.name}"
    assert emitted["console"], f"found no event emitted to {CONSOLE_NAMESPACE} in {FANOUT.name}"


@pytest.mark.parametrize("namespace", ["reader", "console"])
def test_fanout_emits_only_documented_server_events(namespace: str) -> None:
    emitted = fanout_emits()[namespace]
    declared = CATALOGUE[(namespace, "server")]
    doc = documented(namespace, "server")
    assert emitted <= declared, (
        f"{FANOUT.name} emits on {namespace} events not in the protocol's server events: "
        f"{sorted(emitted - declared)}"
    )
    assert emitted <= doc, (
        f"{FANOUT.name} emits on {namespace} events {DOC.name} does not document: "
        f"{sorted(emitted - doc)}"
    )


# -- (f): error codes ----------------------------------------------------------------------------


def _codes_in(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """String error codes: ``code="..."`` arguments, ``code: str = "..."`` defaults,
    ``code = "..."`` class attributes, ``{"code": "..."}`` literals and ``refusal("...", ...)``."""

    def text(node: ast.expr | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for k in node.keywords:
                if k.arg == "code" and (value := text(k.value)) is not None:
                    yield value, node.lineno
            func = node.func
            fname = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if fname == "refusal" and node.args and (value := text(node.args[0])) is not None:
                yield value, node.lineno
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if text(k) == "code" and (value := text(v)) is not None:
                    yield value, node.lineno
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.Assign):
                    target: ast.expr | None = stmt.targets[0]
                else:
                    target = getattr(stmt, "target", None)
                if (
                    isinstance(target, ast.Name)
                    and target.id == "code"
                    and (value := text(getattr(stmt, "value", None))) is not None
                ):
                    yield value, stmt.lineno
        elif isinstance(node, ast.arguments):
            positional = [*node.posonlyargs, *node.args]
            with_default = positional[len(positional) - len(node.defaults) :]
            pairs = list(zip(with_default, node.defaults, strict=True))
            pairs += [
                (a, d)
                for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True)
                if d is not None
            ]
            for arg, default in pairs:
                if arg.arg == "code" and (value := text(default)) is not None:
                    yield value, default.lineno


def error_codes() -> dict[str, list[str]]:
    """Every error code in desk/ and transcripts/, with where it appears."""
    found: dict[str, list[str]] = {}
    for directory in CODE_DIRS:
        for path in sorted(directory.rglob("*.py")):
            tree = _TREES[path]
            for code, line in _codes_in(tree):
                found.setdefault(code, []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


def test_error_codes_are_collected() -> None:
    codes = error_codes()
    # A sample from each way a code is written, so a broken collector cannot pass vacuously.
    for known in (
        "wrong_state",
        "consultation_not_found",
        "invalid_payload",
        "reserved_event",
        "auth_required",
        "not_assigned",
    ):
        assert known in codes, f"the collector missed {known!r}; it found {sorted(codes)}"


def test_every_error_code_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = {code: places for code, places in error_codes().items() if f"`{code}`" not in text}
    assert not missing, f"error codes not documented in {DOC.name} (as `code`):\n" + "\n".join(
        f"  {code}  ({', '.join(places)})" for code, places in sorted(missing.items())
    )
