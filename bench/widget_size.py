#!/usr/bin/env python
"""How many bytes a library's page loads for the reader widget: raw, gzip and brotli.

The widget is one file, `/widget.js`, fetched by every page view of every member library's
site (revalidated with its ETag, so a returning reader mostly gets a 304). This reads the
build in `web/dist` (`cd web && npm run build`), whose `.gz` and `.br` copies are exactly what
the desk sends (desk/assets.py); the console's files are shown for information. The source
maps are left out: a browser only loads them with its developer tools open.

With `--desk URL` it asks a running desk instead and counts the bytes it really sends for
each Accept-Encoding.

    .venv/bin/python bench/widget_size.py
    .venv/bin/python bench/widget_size.py --desk http://127.0.0.1:8080
    .venv/bin/python bench/widget_size.py --json      # figures for a script

The widget's aim is under 40 KB gzipped (docs/widget.md); the exit status is 1 above it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import urllib.request
from pathlib import Path

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
AIM_GZIP = 40_000
ENCODINGS = {"raw": "identity", "gzip": "gzip", "brotli": "br"}


def from_build(path: Path) -> dict[str, int | None]:
    """Sizes of one built file and of the compressed copies the build wrote next to it."""
    data = path.read_bytes()
    gz = path.with_name(path.name + ".gz")
    br = path.with_name(path.name + ".br")
    return {
        "raw": len(data),
        # Without the build's copy the desk would send the file as it is; the figure is then
        # what gzip -9 would give, for comparison.
        "gzip": gz.stat().st_size if gz.is_file() else len(gzip.compress(data, 9)),
        "brotli": br.stat().st_size if br.is_file() else None,
    }


def from_desk(url: str) -> dict[str, int | None]:
    """Bytes a desk sends for ``url`` with each Accept-Encoding (its body as sent)."""
    out: dict[str, int | None] = {}
    for label, coding in ENCODINGS.items():
        req = urllib.request.Request(url, headers={"Accept-Encoding": coding})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
            sent = (resp.headers.get("Content-Encoding") or "identity").lower()
        out[label] = len(body) if sent == coding else None
    return out


def console_files() -> list[str]:
    """What the console's page loads: the page and the assets it names."""
    index = DIST / "console" / "index.html"
    names = re.findall(r'(?:src|href)="/console/(assets/[^"]+)"', index.read_text("utf-8"))
    return ["index.html", *names]


def total(rows: list[dict[str, int | None]]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for key in ENCODINGS:
        values = [r[key] for r in rows]
        out[key] = None if any(v is None for v in values) else sum(v or 0 for v in values)
    return out


def kb(n: int | None) -> str:
    return "-" if n is None else f"{n:,} B ({n / 1000:.1f} KB)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--desk", help="measure a running desk at this address instead")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if not (DIST / "widget" / "widget.js").is_file():
        print("web/dist is not built: cd web && npm run build", file=sys.stderr)
        return 2
    files = console_files()
    if args.desk:
        base = args.desk.rstrip("/")
        widget = from_desk(base + "/widget.js")
        # The console's page is /console/, its assets /console/assets/...
        urls = [f"{base}/console/{'' if n == 'index.html' else n}" for n in files]
        console = total([from_desk(u) for u in urls])
    else:
        widget = from_build(DIST / "widget" / "widget.js")
        console = total([from_build(DIST / "console" / n) for n in files])
    if args.json:
        print(json.dumps({"widget": widget, "console": console, "console_files": files}, indent=2))
    else:
        where = f"desk {args.desk}" if args.desk else "web/dist"
        print(f"what a library's page loads for the widget ({where}):")
        for key in ENCODINGS:
            print(f"  widget.js  {key:<7} {kb(widget[key])}")
        print(f"  aim: gzip under {AIM_GZIP / 1000:.0f} KB")
        print(f"the console, for information ({', '.join(files)}):")
        for key in ENCODINGS:
            print(f"  total      {key:<7} {kb(console[key])}")
    gz = widget["gzip"]
    return 1 if gz is not None and gz > AIM_GZIP else 0


if __name__ == "__main__":
    sys.exit(main())
