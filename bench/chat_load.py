#!/usr/bin/env python
"""Load test of the consultation desk over real sockets, beside a bare python-socketio relay.

For each setup it starts real server processes (``desk serve``; ``bench/bare_relay.py`` for
the reference), seeds them, and drives them from separate load-generator processes
(``bench/loadgen.py``) holding simulated readers and consultants on real Socket.IO websocket
connections. It prints figures and the targets beside them; it never fails on a timing (the
exit status is 0 whenever every setup could be measured).

    .venv/bin/python bench/chat_load.py                      # 1,000 chats, both setups
    .venv/bin/python bench/chat_load.py --chats 200 --duration 5 --setup embedded
    .venv/bin/python bench/chat_load.py --chats 5000 --setup embedded --json out.json

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from uuid import uuid4

import psutil

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import loadgen  # noqa: E402  (a sibling module: bench/ is not a package)

#: The website origin the bench's libraries allow to embed the widget.
BENCH_ORIGIN = "http://bench.example"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"

#: Targets from ../shared/STACK-FACTS.md and the issue.
TARGET_THROUGHPUT_RATIO = 0.8  # x the bare relay, at 1,000 chats
TARGET_P99_MS = {1000: 10.0, 5000: 50.0}  # at 500 msg/s
TARGET_KIB_PER_SOCKET = 40.0


#: Log lines differing only in numbers (times, ids) are counted together.
DIGITS = re.compile(r"\d+")


class BenchError(Exception):
    pass


# -- small helpers ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


def ms(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x * 1000:.1f} ms" if x * 1000 >= 10 else f"{x * 1000:.2f} ms"


def num(x: float | None, unit: str = "") -> str:
    if x is None:
        return "n/a"
    return f"{x:,.0f}{unit}"


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}x"


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def run_queue_seconds(procs: list[psutil.Process]) -> tuple[float, float]:
    """Seconds the processes' threads spent runnable but waiting for a core, from Linux's
    /proc/PID/task/TID/schedstat: (the main thread's, all threads'). Zeros where unreadable."""
    main = every = 0.0
    for p in procs:
        for task in Path(f"/proc/{p.pid}/task").glob("*"):
            try:
                waited = int((task / "schedstat").read_text().split()[1]) / 1e9
            except (OSError, IndexError, ValueError):
                continue
            every += waited
            if task.name == str(p.pid):
                main += waited
    return main, every


def rss_bytes(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def service_processes() -> dict[str, list[psutil.Process]]:
    """Local Redis and PostgreSQL server processes, for their CPU share (best effort)."""
    found: dict[str, list[psutil.Process]] = {"redis": [], "postgres": []}
    for p in psutil.process_iter(["name"]):
        name = p.info.get("name") or ""
        if name.startswith("redis-server"):
            found["redis"].append(p)
        elif name.startswith("postgres"):
            found["postgres"].append(p)
    return found


def raise_nofile_limit() -> tuple[int, int]:
    return loadgen.raise_nofile_limit()


def desk_command() -> list[str]:
    exe = Path(sys.executable).parent / "desk"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "desk.cli"]


# -- plan ---------------------------------------------------------------------------------


@dataclass
class WorkerPlan:
    wid: int
    chats: int
    chat_base: int
    library: str
    consultants: list[tuple[str, str]]


def make_plan(chats: int, workers: int, cap: int, password: str, run_id: str) -> list[WorkerPlan]:
    plans = []
    base = 0
    for w in range(workers):
        n = chats // workers + (1 if w < chats % workers else 0)
        n_cons = -(-n // cap)
        plans.append(
            WorkerPlan(
                wid=w,
                chats=n,
                chat_base=base,
                library=f"bench-{run_id}-w{w}",
                consultants=[(f"bench-{run_id}-w{w}-c{j:04d}", password) for j in range(n_cons)],
            )
        )
        base += n
    return [p for p in plans if p.chats > 0]


# -- services: database, redis ------------------------------------------------------------


async def seed_desk(database_url: str, plans: list[WorkerPlan], cap: int) -> None:
    """One library per worker (direct routing, the bench origin allowed) and its consultants,
    through desk.admin. All consultants share one generated password, hashed once: Argon2 at
    ~0.1 s a hash would otherwise make seeding 500 consultants take a minute."""
    from desk import admin
    from desk.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    real_hash = getattr(admin, "hash_password")  # noqa: B009 (patched below, restored after)
    hashed: dict[str, str] = {}

    def hash_once(password: str) -> str:
        if password not in hashed:
            hashed[password] = real_hash(password)
        return hashed[password]

    setattr(admin, "hash_password", hash_once)  # noqa: B010
    try:
        for p in plans:
            await admin.add_library(
                sessions,
                code=p.library,
                name=f"Bench library {p.wid}",
                name_en=f"Bench library {p.wid}",
                origins=[BENCH_ORIGIN],
                languages=["zh-CN"],
                routing_mode="direct",
                # Never overflow to another worker's consultants: each worker owns whole chats.
                overflow_delay_seconds=3600,
            )
            for username, password in p.consultants:
                await admin.add_consultant(
                    sessions,
                    library_code=p.library,
                    username=username,
                    display_name=username,
                    password=password,
                    role="consultant",
                    languages=["zh-CN"],
                    max_chats=cap,
                )
    finally:
        setattr(admin, "hash_password", real_hash)  # noqa: B010
        await engine.dispose()


async def create_pg_database() -> str:
    import asyncpg

    name = f"desk_bench_{uuid4().hex[:12]}"
    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def delete_redis_prefix(prefix: str) -> int:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    deleted = 0
    try:
        batch: list[str] = []
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += await client.delete(*batch)
                batch.clear()
        if batch:
            deleted += await client.delete(*batch)
    finally:
        await client.aclose()
    return deleted


def migrate(env: dict[str, str], log_path: Path, cwd: Path) -> None:
    with open(log_path, "ab") as log:
        done = subprocess.run(
            [*desk_command(), "db", "upgrade"],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=180,
            check=False,
        )
    if done.returncode != 0:
        raise BenchError(f"desk db upgrade failed (exit {done.returncode}); see {log_path}")


# -- server processes ---------------------------------------------------------------------


@dataclass
class ServerProc:
    name: str
    base: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    ps: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self.ps = psutil.Process(self.proc.pid)


def start_server(
    name: str, cmd: list[str], env: dict[str, str], port: int, log_path: Path, cwd: Path
) -> ServerProc:
    log = open(log_path, "ab")  # noqa: SIM115 (the child keeps writing to it)
    try:
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        log.close()
    return ServerProc(name, f"http://127.0.0.1:{port}", proc, log_path)


def wait_healthy(server: ServerProc, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(
                f"{server.name} exited with {server.proc.returncode}:\n{tail(server.log_path)}"
            )
        try:
            with urllib.request.urlopen(f"{server.base}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise BenchError(f"{server.name} not healthy within {timeout:.0f} s:\n{tail(server.log_path)}")


def stop_process(proc: subprocess.Popen[bytes] | multiprocessing.process.BaseProcess) -> None:
    """Terminate one child we started (by its own pid), then kill it if it lingers."""
    if isinstance(proc, subprocess.Popen):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        return
    if proc.is_alive():
        proc.terminate()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join(10)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def scan_log(path: Path) -> dict[str, Any]:
    """Warnings and errors a server logged (JSON lines from the desk; text from the relay)."""
    counts: Counter[str] = Counter()
    samples: list[str] = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return {"warnings": 0, "errors": 0, "top": []}
    warnings = errors = 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        if isinstance(rec, dict):
            level = str(rec.get("level", "")).lower()
            if level not in ("warning", "error", "critical", "exception"):
                continue
            key = f"{level}: {DIGITS.sub('#', str(rec.get('event', '?')))}"
            if level == "warning":
                warnings += 1
            else:
                errors += 1
            if len(samples) < 5 and level != "warning":
                exc = str(rec.get("exception", "")).strip().splitlines()
                samples.append(
                    f"{rec.get('timestamp', '?')} {rec.get('event', '?')}"
                    + (f" -> {exc[-1][:300]}" if exc else "")
                )
        else:
            lowered = line.lower()
            if line.startswith(("desk serving on", "INFO")) or "database at" in lowered:
                continue
            if "alembic" in lowered:
                continue
            key = f"text: {DIGITS.sub('#', line[:160])}"
            if "error" in lowered or "traceback" in lowered or "exception" in lowered:
                errors += 1
            else:
                warnings += 1
        counts[key] += 1
    return {
        "warnings": warnings,
        "errors": errors,
        "top": [f"{n} x {k}" for k, n in counts.most_common(8)],
        "error_samples": samples,
    }


# -- workers ------------------------------------------------------------------------------


@dataclass
class WorkerHandle:
    wid: int
    proc: multiprocessing.process.BaseProcess
    conn: Connection
    ps: psutil.Process | None = None


def start_workers(specs: list[dict[str, Any]]) -> list[WorkerHandle]:
    ctx = multiprocessing.get_context("spawn")
    handles = []
    for spec in specs:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=loadgen.worker_main, args=(spec["wid"], child, spec), daemon=True)
        proc.start()
        child.close()
        handles.append(WorkerHandle(spec["wid"], proc, parent, psutil.Process(proc.pid)))
    return handles


def send_all(workers: list[WorkerHandle], cmd: dict[str, Any]) -> None:
    for w in workers:
        w.conn.send(dict(cmd))


def collect_all(workers: list[WorkerHandle], timeout: float, what: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    replies = []
    for w in workers:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"worker {w.wid} gave no answer to {what} within {timeout:.0f} s")
            if w.conn.poll(min(left, 1.0)):
                try:
                    reply = w.conn.recv()
                except EOFError as exc:
                    raise BenchError(f"worker {w.wid} died during {what}") from exc
                break
            if not w.proc.is_alive():
                raise BenchError(f"worker {w.wid} died during {what} (exit {w.proc.exitcode})")
        if "error" in reply:
            raise BenchError(f"worker {w.wid} failed in {what}:\n{reply['error']}")
        replies.append(reply)
    return replies


def ask(workers: list[WorkerHandle], cmd: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
    send_all(workers, cmd)
    return collect_all(workers, timeout, cmd["cmd"])


def merge_counts(replies: list[dict[str, Any]], key: str) -> dict[str, int]:
    total: Counter[str] = Counter()
    for r in replies:
        total.update(r.get(key, {}))
    return dict(total)


# -- one measured target ------------------------------------------------------------------


@dataclass
class Target:
    key: str  # bare | bare-redis | desk-embedded | desk-shared
    label: str
    kind: str  # bare | desk
    nodes: int
    storage: str  # what the server stores in / shares through


def measure_window(
    workers: list[WorkerHandle],
    servers: list[ServerProc],
    with_services: bool,
    cmds: list[dict[str, Any]],
    start_at: float,
    duration: float,
    timeout: float,
    signal_servers: bool = False,
    spy_dir: Path | None = None,
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Send a timed phase to the workers (one command each) and sample CPU over exactly its
    window ``[start_at, start_at + duration]`` (and profile or probe the servers over it if
    asked: SIGUSR1 at its start, SIGUSR2 at its end)."""
    for w, cmd in zip(workers, cmds, strict=True):
        w.conn.send(cmd)
    # Scanned now: PostgreSQL forks a backend per connection the desk opened meanwhile.
    services = service_processes() if with_services else {}
    time.sleep(max(0.0, start_at - time.time()))
    worker_ps = [w.ps for w in workers if w.ps is not None]
    server_ps = [s.ps for s in servers]
    c0 = {
        "server": cpu_seconds(server_ps),
        "generator": cpu_seconds(worker_ps),
        **{name: cpu_seconds(ps) for name, ps in services.items()},
    }
    per_worker0 = [cpu_seconds([p]) for p in worker_ps]
    queued0 = run_queue_seconds(server_ps)
    if signal_servers:
        for s in servers:
            s.proc.send_signal(signal.SIGUSR1)
    spies = start_py_spy(servers, duration, spy_dir) if spy_dir is not None else []
    t0 = time.monotonic()
    time.sleep(max(0.0, start_at + duration - time.time()))
    elapsed = time.monotonic() - t0
    if signal_servers:
        for s in servers:
            s.proc.send_signal(signal.SIGUSR2)
    c1 = {
        "server": cpu_seconds(server_ps),
        "generator": cpu_seconds(worker_ps),
        **{name: cpu_seconds(ps) for name, ps in services.items()},
    }
    per_worker1 = [cpu_seconds([p]) for p in worker_ps]
    queued1 = run_queue_seconds(server_ps)
    for spy in spies:
        with contextlib.suppress(subprocess.TimeoutExpired):
            spy.wait(timeout=30)
        stop_process(spy)
    replies = collect_all(workers, timeout, cmds[0]["cmd"])
    cpu = {f"{k}_cpu_pct": 100.0 * (c1[k] - c0[k]) / elapsed for k in c0}
    # Runnable but not running: what a crowded machine adds to every server-side wait.
    cpu["server_loop_waiting_for_cpu_pct"] = 100.0 * (queued1[0] - queued0[0]) / elapsed
    cpu["server_waiting_for_cpu_pct"] = 100.0 * (queued1[1] - queued0[1]) / elapsed
    cpu["generator_worker_max_cpu_pct"] = max(
        (100.0 * (b - a) / elapsed for a, b in zip(per_worker0, per_worker1, strict=True)),
        default=0.0,
    )
    return replies, cpu


def summarise_phase(replies: list[dict[str, Any]], duration: float) -> dict[str, Any]:
    lat = sorted(x for r in replies for x in r["latencies"])
    received = sum(r["received_in_window"] for r in replies)
    return {
        "duration": duration,
        "received_in_window": received,
        "msgs_per_s": received / duration,
        "sent_in_window": sum(r["sent_in_window"] for r in replies),
        "acked_in_window": sum(r["acked_in_window"] for r in replies),
        "timed": len(lat),
        "p50_s": percentile(lat, 0.50),
        "p99_s": percentile(lat, 0.99),
        "max_s": lat[-1] if lat else None,
        "refused": merge_counts(replies, "refused"),
        "errors": merge_counts(replies, "errors"),
    }


def run_target(target: Target, args: argparse.Namespace, tmp: Path, run_id: str) -> dict[str, Any]:
    cap = args.per_consultant
    password = secrets.token_urlsafe(18)
    plans = make_plan(args.chats, args.workers, cap, password, run_id)
    sockets_planned = sum(p.chats + len(p.consultants) for p in plans)
    result: dict[str, Any] = {
        "target": target.key,
        "label": target.label,
        "kind": target.kind,
        "nodes": target.nodes,
        "storage": target.storage,
        "chats": args.chats,
        "consultants": sum(len(p.consultants) for p in plans),
        "sockets_planned": sockets_planned,
    }
    tdir = tmp / target.key
    tdir.mkdir(parents=True, exist_ok=True)
    servers: list[ServerProc] = []
    workers: list[WorkerHandle] = []
    pg_name: str | None = None
    redis_prefix: str | None = None
    t_start = time.monotonic()
    try:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        ports = [free_port() for _ in range(target.nodes)]
        if target.kind == "desk":
            env.update(
                {
                    "DESK_HOST": "127.0.0.1",
                    "DESK_LOG_LEVEL": "WARNING",
                    "DESK_LOG_FORMAT": "json",
                }
            )
            if target.key == "desk-embedded":
                db_url = f"sqlite+aiosqlite:///{tdir / 'desk.sqlite3'}"
                env.pop("DESK_REDIS_URL", None)
            else:
                pg_name = asyncio.run(create_pg_database())
                db_url = f"{POSTGRES_BASE}/{pg_name}"
                redis_prefix = f"deskbench:{run_id}:{uuid4().hex[:8]}:"
                env["DESK_REDIS_URL"] = REDIS_URL
                env["DESK_REDIS_PREFIX"] = redis_prefix
            env["DESK_DATABASE_URL"] = db_url
            migrate(env, tdir / "migrate.log", tdir)
            t_seed = time.monotonic()
            asyncio.run(seed_desk(db_url, plans, cap))
            result["seed_seconds"] = time.monotonic() - t_seed
            for n, port in enumerate(ports):
                node_env = dict(env)
                node_env["DESK_PORT"] = str(port)
                node_env["DESK_PUBLIC_ORIGIN"] = f"http://127.0.0.1:{port}"
                node_env["DESK_NODE_ID"] = f"bench-{run_id}-n{n}"
                node_env["BENCH_PROFILE_OUT"] = str(tdir / f"profile-{n}.pstats")
                node_env["BENCH_PROBE_OUT"] = str(tdir / f"probe-{n}.json")
                if args.profile:
                    cmd = [sys.executable, str(BENCH_DIR / "profile_serve.py")]
                elif args.probe:
                    cmd = [sys.executable, str(BENCH_DIR / "probe_serve.py")]
                else:
                    cmd = [*desk_command(), "serve"]
                servers.append(
                    start_server(
                        f"desk node {n}",
                        cmd,
                        node_env,
                        port,
                        tdir / f"server-{n}.log",
                        tdir,
                    )
                )
        else:
            cmd_base = [sys.executable, str(BENCH_DIR / "bare_relay.py"), "--gc", args.bare_gc]
            if target.key == "bare-redis":
                redis_prefix = f"deskbench:{run_id}:{uuid4().hex[:8]}:"
                cmd_base += ["--redis-url", REDIS_URL, "--channel", f"{redis_prefix}socketio"]
            for n, port in enumerate(ports):
                servers.append(
                    start_server(
                        f"bare relay {n}",
                        [*cmd_base, "--port", str(port)],
                        env,
                        port,
                        tdir / f"server-{n}.log",
                        tdir,
                    )
                )
        for s in servers:
            wait_healthy(s)
        services = target.key in ("desk-shared", "bare-redis")

        bases = [s.base for s in servers]
        conc = max(1, math.ceil(args.connect_concurrency / len(plans)))
        specs = [
            {
                "wid": p.wid,
                "kind": target.kind,
                "bases": bases,
                "chats": p.chats,
                "chat_base": p.chat_base,
                "cap": cap,
                "library": p.library,
                "consultants": [list(c) for c in p.consultants],
                "origin": BENCH_ORIGIN,
                "http_concurrency": 16,
                "login_concurrency": 2,
                "connect_concurrency": conc,
                "open_concurrency": max(1, math.ceil(args.open_concurrency / len(plans))),
                "assign_wait": 120 + 0.15 * p.chats,
            }
            for p in plans
        ]
        workers = start_workers(specs)

        # 1. credentials over HTTP (not measured: Argon2 logins dominate it)
        replies = ask(
            workers,
            {"cmd": "setup"},
            timeout=180 + 0.5 * result["consultants"] + 0.05 * args.chats,
        )
        result["http_setup"] = {
            "seconds": max(r["seconds"] for r in replies),
            "errors": merge_counts(replies, "errors"),
        }
        time.sleep(1.0)
        rss0 = rss_bytes([s.ps for s in servers])

        # 2. connect: consultants, then readers, bounded concurrency
        replies = ask(workers, {"cmd": "connect"}, timeout=120 + 0.05 * sockets_planned)
        connected = sum(r["connected"] for r in replies)
        span = max(r["end"] for r in replies) - min(r["start"] for r in replies)
        result["connect"] = {
            "connected": connected,
            "failed": sum(r["failed"] for r in replies),
            "seconds": span,
            "sockets_per_s": connected / span if span > 0 else None,
            "errors": merge_counts(replies, "errors"),
        }
        time.sleep(1.0)
        rss1 = rss_bytes([s.ps for s in servers])

        # 3. open chats (the desk routes each to a consultant)
        replies = ask(workers, {"cmd": "open"}, timeout=240 + 0.2 * args.chats)
        assigned = sum(r["assigned"] for r in replies)
        assigned_per_worker = [r["assigned"] for r in replies]
        span = max(r["end"] for r in replies) - min(r["start"] for r in replies)
        result["open"] = {
            "opened": sum(r["opened"] for r in replies),
            "assigned": assigned,
            "seconds": span,
            "chats_per_s": assigned / span if span > 0 else None,
            "console_broadcasts_received": sum(r.get("queue_changed", 0) for r in replies),
            "errors": merge_counts(replies, "errors"),
        }
        time.sleep(1.0)
        rss2 = rss_bytes([s.ps for s in servers])
        result["memory"] = {
            "rss_before_mib": rss0 / 2**20,
            "rss_connected_mib": rss1 / 2**20,
            "rss_opened_mib": rss2 / 2**20,
            "kib_per_socket": (rss1 - rss0) / 1024 / connected if connected else None,
            "kib_per_socket_with_chats": (rss2 - rss0) / 1024 / connected if connected else None,
        }
        if assigned == 0:
            raise BenchError("no chat has both sides ready; nothing to measure")

        # 4. max throughput
        start_at = time.time() + args.warmup + 0.5
        cmd = {
            "cmd": "throughput",
            "start_at": start_at,
            "duration": args.duration,
            "warmup": args.warmup,
            "inflight": args.inflight,
        }
        replies, cpu = measure_window(
            workers,
            servers,
            services,
            [cmd] * len(workers),
            start_at,
            args.duration,
            timeout=args.duration + args.warmup + loadgen.ACK_TIMEOUT + 60,
            signal_servers=target.kind == "desk" and "throughput" in (args.profile, args.probe),
            spy_dir=tdir if target.kind == "desk" and args.py_spy == "throughput" else None,
        )
        result["throughput"] = {**summarise_phase(replies, args.duration), **cpu}
        result["throughput"]["chats"] = sum(r["chats"] for r in replies)
        time.sleep(1.0)

        # 5. latency at a fixed total rate, spread over the chats (so over the workers)
        start_at = time.time() + 0.5
        active = {p.wid: n for p, n in zip(plans, assigned_per_worker, strict=True)}
        total_active = sum(active.values()) or 1
        cmds = [
            {
                "cmd": "rate",
                "start_at": start_at,
                "duration": args.duration,
                "rate": args.rate * active[w.wid] / total_active,
            }
            for w in workers
        ]
        replies, cpu = measure_window(
            workers,
            servers,
            services,
            cmds,
            start_at,
            args.duration,
            timeout=args.duration + loadgen.ACK_TIMEOUT + 60,
            signal_servers=target.kind == "desk" and "rate" in (args.profile, args.probe),
            spy_dir=tdir if target.kind == "desk" and args.py_spy == "rate" else None,
        )
        phase = summarise_phase(replies, args.duration)
        phase["scheduled"] = sum(r["scheduled"] for r in replies)
        phase["lost"] = phase["sent_in_window"] - phase["timed"]
        result["rate"] = {"target_msgs_per_s": args.rate, **phase, **cpu}
        result["dropped"] = merge_counts(replies, "dropped")
        result["drop_reasons"] = merge_counts(replies, "drop_reasons")
        result["live_chats_at_rate"] = sum(r["chats"] for r in replies)
        result["server_rss_end_mib"] = rss_bytes([s.ps for s in servers]) / 2**20
        if args.profile and target.kind == "desk":
            time.sleep(1.0)
            result["profiles"] = [str(p) for p in sorted(tdir.glob("profile-*.pstats"))]
        if args.probe and target.kind == "desk":
            result["probes"] = read_probes(tdir, len(servers))
        if args.py_spy and target.kind == "desk":
            result["spies"] = [str(p) for p in sorted(tdir.glob("spy-*.txt"))]
    finally:
        if workers:
            try:
                send_all(workers, {"cmd": "close"})
                collect_all(workers, 60, "close")
            except Exception:
                pass
            for w in workers:
                stop_process(w.proc)
        for s in servers:
            stop_process(s.proc)
        if servers:
            logs = [scan_log(s.log_path) for s in servers]
            result["server_log"] = {
                "warnings": sum(x["warnings"] for x in logs),
                "errors": sum(x["errors"] for x in logs),
                "top": [t for x in logs for t in x["top"]][:10],
                "error_samples": [t for x in logs for t in x.get("error_samples", [])][:5],
                "files": [str(s.log_path) for s in servers],
            }
        if pg_name is not None:
            try:
                asyncio.run(drop_pg_database(pg_name))
            except Exception as exc:
                print(f"  ! could not drop database {pg_name}: {exc}", file=sys.stderr)
        if redis_prefix is not None:
            try:
                asyncio.run(delete_redis_prefix(redis_prefix))
            except Exception as exc:
                print(f"  ! could not clean Redis prefix {redis_prefix}: {exc}", file=sys.stderr)
        result["wall_seconds"] = time.monotonic() - t_start
    return result


# -- report -------------------------------------------------------------------------------


def print_target(r: dict[str, Any]) -> None:
    print(f"\n== {r['label']} ==", flush=True)
    if "error" in r:
        print(f"  FAILED: {r['error']}")
    hs = r.get("http_setup")
    if hs:
        seed = f"seed {r['seed_seconds']:.1f} s, " if "seed_seconds" in r else ""
        err = f" errors {hs['errors']}" if hs["errors"] else ""
        print(
            f"  setup:      {seed}reader tokens + consultant logins over HTTP "
            f"{hs['seconds']:.1f} s{err}"
        )
    c = r.get("connect")
    if c:
        err = f"; errors {c['errors']}" if c["errors"] else ""
        print(
            f"  connect:    {c['connected']:,} sockets ({r['consultants']:,} consultants) in "
            f"{c['seconds']:.2f} s = {num(c['sockets_per_s'])} sockets/s, {c['failed']} failed{err}"
        )
    o = r.get("open")
    if o:
        err = f"; errors {o['errors']}" if o["errors"] else ""
        what = "opened + assigned" if r["kind"] == "desk" else "paired"
        print(
            f"  chats:      {o['assigned']:,} of {r['chats']:,} {what} in {o['seconds']:.2f} s"
            f" = {num(o['chats_per_s'])} chats/s{err}"
        )
        if o.get("console_broadcasts_received"):
            print(
                f"{'':14}consoles received {o['console_broadcasts_received']:,} "
                "queue.changed broadcasts meanwhile"
            )
    m = r.get("memory")
    if m:
        print(
            f"  memory:     server RSS {m['rss_before_mib']:.1f} -> "
            f"{m['rss_connected_mib']:.1f} MiB "
            f"connected = {m['kib_per_socket']:.1f} KiB/socket"
            f"  ({m['kib_per_socket_with_chats']:.1f} KiB/socket with chats open, "
            f"{m['rss_opened_mib']:.1f} MiB)"
        )
    for key in ("throughput", "rate"):
        p = r.get(key)
        if not p:
            continue
        extra = ""
        if "redis_cpu_pct" in p:
            extra = f" | redis {p['redis_cpu_pct']:.0f}% postgres {p['postgres_cpu_pct']:.0f}%"
        cpu = (
            f"CPU % of one core: server {p['server_cpu_pct']:.0f}% | generator "
            f"{p['generator_cpu_pct']:.0f}% "
            f"(busiest worker {p['generator_worker_max_cpu_pct']:.0f}%)"
            f"{extra}"
        )
        if "server_loop_waiting_for_cpu_pct" in p:
            cpu += (
                f"\n  {'':10}  server runnable, waiting for a core: loop thread "
                f"{p['server_loop_waiting_for_cpu_pct']:.1f}% of the window, all threads "
                f"{p['server_waiting_for_cpu_pct']:.1f}%"
            )
        bad = ""
        if p["refused"]:
            bad += f" refused {p['refused']}"
        if p["errors"]:
            bad += f" errors {p['errors']}"
        if key == "throughput":
            print(
                f"  throughput: {num(p['msgs_per_s'])} relayed msgs/s "
                f"({p['received_in_window']:,} in {args_duration(r)} s; "
                f"saturated latency p50 {ms(p['p50_s'])} p99 {ms(p['p99_s'])}){bad}"
            )
        else:
            print(
                f"  rate {p['target_msgs_per_s']:g}/s: latency p50 {ms(p['p50_s'])} "
                f"p99 {ms(p['p99_s'])} "
                f"max {ms(p['max_s'])} ({p['timed']:,} of {p['sent_in_window']:,} sent relayed, "
                f"{p['lost']} not received){bad}"
            )
        print(f"  {'':10}  {cpu}")
    if r.get("dropped"):
        per = ", ".join(f"{k} {v:,}" for k, v in r["dropped"].items())
        print(
            f"  DROPPED:    sockets closed while in use, by phase: {per} "
            f"(reasons {r.get('drop_reasons')}); chats with both sides left: "
            f"{r.get('live_chats_at_rate', 0):,}"
        )
    lg = r.get("server_log")
    if lg:
        line = f"  server log: {lg['errors']} errors, {lg['warnings']} warnings"
        print(line)
        for t in lg["top"][:5]:
            print(f"    {t[:200]}")
        for t in lg.get("error_samples", []):
            print(f"    e.g. {t[:300]}")
    for path in r.get("profiles", []):
        print_profile(path)
    for probe in r.get("probes", []):
        print_probe(probe)
    for path in r.get("spies", []):
        print_py_spy(path)
    print(f"  ({r.get('wall_seconds', 0):.0f} s)", flush=True)


def read_probes(tdir: Path, nodes: int, wait: float = 10.0) -> list[dict[str, Any]]:
    """Each node's probe report (written on SIGUSR2; give it a moment)."""
    out = []
    for n in range(nodes):
        path = tdir / f"probe-{n}.json"
        deadline = time.monotonic() + wait
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        try:
            out.append({"node": n, **json.loads(path.read_text())})
        except (OSError, ValueError) as exc:
            out.append({"node": n, "error": f"no probe report: {exc}"})
    return out


def print_probe(p: dict[str, Any]) -> None:
    print(f"  probe, node {p['node']}:")
    if "error" in p:
        print(f"    {p['error']}")
        return
    window = p["window_s"] or 1.0

    def dist(d: dict[str, float] | None, scale: float = 1000.0, unit: str = "ms") -> str:
        if not d:
            return "none"
        return (
            f"n {d['n']:,.0f}, p50 {d['p50'] * scale:.2f} p99 {d['p99'] * scale:.2f} "
            f"p99.9 {d['p999'] * scale:.2f} max {d['max'] * scale:.2f} {unit}"
        )

    print(
        f"    loop busy {100 * p['busy_s'] / window:.0f}% of {window:.1f} s, "
        f"{p['callbacks'] / window:,.0f} callbacks/s; callback {dist(p['callback_s'])}"
    )
    print(f"    loop lag (a 2 ms timer fired late by): {dist(p['lag_s'])}")
    gcs = ", ".join(
        f"gen {g}: {v['n']} x, total {v['total_s'] * 1000:.1f} ms, max {v['max_s'] * 1000:.1f} ms"
        for g, v in p["gc"].items()
    )
    print(f"    collections: {gcs or 'none'}")
    print(f"    store.post wait: {dist(p['store_post_s'])}")
    print(f"    batch write: {dist(p['batch_write_s'])}; size {dist(p['batch_size'], 1, 'msgs')}")
    paths = p.get("writer_paths") or {}
    if paths:
        total = sum(paths.values())
        shares = ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in sorted(paths.items()))
        print(
            f"    writer's batches by path: {shares} of {total:,}; "
            f"{p.get('writer_shifted', 0):,} moved past another node's messages"
        )
    print(f"    relay (bus publish of a message): {dist(p['publish_message_s'])}")
    if p["slow_callbacks"]:
        print("    callbacks of 2 ms or more, by total time:")
        for name, v in list(p["slow_callbacks"].items())[:8]:
            print(
                f"      {v['n']:5} x total {v['total_s'] * 1000:7.1f} ms "
                f"max {v['max_s'] * 1000:6.1f} ms  {name[:110]}"
            )


def start_py_spy(
    servers: list[ServerProc], duration: float, out_dir: Path
) -> list[subprocess.Popen[bytes]]:
    """Sample each server with py-spy over the window (collapsed stacks, one file per node).

    A sampling profiler, unlike cProfile, charges SQLAlchemy's greenlet-switched code to the
    right frames, and sees the SQLite writer thread too."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    spies = []
    for n, s in enumerate(servers):
        spies.append(
            subprocess.Popen(
                [
                    exe,
                    "record",
                    "--pid",
                    str(s.proc.pid),
                    "--duration",
                    str(max(1, int(duration))),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--threads",
                    "--output",
                    str(out_dir / f"spy-{n}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return spies


def print_py_spy(path: str, top: int = 25) -> None:
    """The hottest functions of one py-spy capture: by own samples, and by samples beneath."""
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [
            f.split(" (")[0] + " " + f.rsplit(":", 1)[0].split("/")[-1] for f in stack.split(";")
        ]
        if frames:
            own[frames[-1]] += n
        for f in set(frames):
            under[f] += n
    if not total:
        print(f"  py-spy {path}: no samples")
        return
    print(f"  py-spy {path}: {total} samples")
    for title, counter in (("own", own), ("inclusive", under)):
        print(f"    top by {title} time:")
        for name, n in counter.most_common(top):
            print(f"      {100 * n / total:5.1f}%  {name[:150]}")


def print_profile(path: str, top: int = 30) -> None:
    import io
    import pstats

    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(path, stream=out)
        stats.sort_stats(order).print_stats(top)
        print(f"  profile of {path} by {order}:")
        lines = out.getvalue().splitlines()
        start = next((i for i, x in enumerate(lines) if x.strip().startswith("ncalls")), 0)
        for line in lines[start : start + top + 1]:
            print(f"    {line[:220]}")


def args_duration(r: dict[str, Any]) -> str:
    return f"{r['throughput']['duration']:g}" if "duration" in r.get("throughput", {}) else "?"


def verdict(ok: bool | None, applies: bool) -> str:
    if ok is None:
        return "n/a"
    if not applies:
        return "(info)"
    return "PASS" if ok else "MISS"


def summary(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> list[dict[str, Any]]:
    bare = results.get("bare", {})
    bare_redis = results.get("bare-redis", {})
    rows: list[dict[str, Any]] = []

    def fig(r: dict[str, Any], phase: str, key: str) -> float | None:
        v = r.get(phase, {}).get(key)
        return float(v) if isinstance(v, (int, float)) else None

    p99_target = TARGET_P99_MS.get(args.chats)
    for key in ("desk-embedded", "desk-shared"):
        r = results.get(key)
        if not r or "rate" not in r:
            continue
        refs = [("bare relay (in memory, 1 node)", bare)]
        if key == "desk-shared" and bare_redis.get("rate"):
            refs.append((f"bare relay + Redis ({bare_redis['nodes']} node(s))", bare_redis))
        tput = fig(r, "throughput", "msgs_per_s")
        p99 = fig(r, "rate", "p99_s")
        kib = r.get("memory", {}).get("kib_per_socket")
        for ref_name, ref in refs:
            main_ref = ref is bare
            rt = ratio(tput, fig(ref, "throughput", "msgs_per_s"))
            rows.append(
                {
                    "setup": key,
                    "figure": "throughput msgs/s",
                    "value": tput,
                    "reference": ref_name,
                    "ref_value": fig(ref, "throughput", "msgs_per_s"),
                    "ratio": rt,
                    "target": f">= {TARGET_THROUGHPUT_RATIO}x bare at 1,000 chats",
                    "result": verdict(
                        None if rt is None else rt >= TARGET_THROUGHPUT_RATIO,
                        main_ref and args.chats == 1000,
                    ),
                }
            )
            ref_p99 = fig(ref, "rate", "p99_s")
            rows.append(
                {
                    "setup": key,
                    "figure": f"p99 ms at {args.rate:g} msg/s",
                    "value": None if p99 is None else p99 * 1000,
                    "reference": ref_name,
                    "ref_value": None if ref_p99 is None else ref_p99 * 1000,
                    "ratio": ratio(p99, ref_p99),
                    "target": "< 10 ms at 1,000 chats; < 50 ms at 5,000 chats (500 msg/s)",
                    "result": (
                        verdict(
                            None if p99 is None else p99 * 1000 < p99_target,
                            main_ref and args.rate == 500,
                        )
                        if p99_target is not None
                        else "(info)"
                    ),
                }
            )
            ref_kib = ref.get("memory", {}).get("kib_per_socket")
            rows.append(
                {
                    "setup": key,
                    "figure": "KiB per socket",
                    "value": kib,
                    "reference": ref_name,
                    "ref_value": ref_kib,
                    "ratio": ratio(kib, ref_kib),
                    "target": f"<= {TARGET_KIB_PER_SOCKET:g} KiB",
                    "result": verdict(
                        None if kib is None else kib <= TARGET_KIB_PER_SOCKET, main_ref
                    ),
                }
            )
    return rows


def print_summary(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\n== Summary: {args.chats:,} chats, {args.per_consultant} chats per consultant, "
        f"{args.duration:g} s per phase, rate {args.rate:g} msg/s =="
    )
    print(
        "  The bare reference of both setups is the same in-memory python-socketio relay "
        "(no storage, no routing); for the shared setup the bare relay on Redis is shown too."
    )
    if not rows:
        print("  (no desk figures)")
        return
    head = (
        f"  {'setup':14} {'figure':24} {'desk':>10} {'bare':>10} {'ratio':>7}  "
        f"{'target':44} result  reference"
    )
    print(head)
    for row in rows:
        v, rv = row["value"], row["ref_value"]
        print(
            f"  {row['setup']:14} {row['figure']:24} {'n/a' if v is None else f'{v:,.1f}':>10} "
            f"{'n/a' if rv is None else f'{rv:,.1f}':>10} {fmt_ratio(row['ratio']):>7}  "
            f"{row['target']:44} {row['result']:6}  {row['reference']}"
        )
    print("  PASS/MISS only where the target's conditions match this run; otherwise (info).")


# -- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="Measure the desk over real sockets, beside a bare python-socketio relay.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument(
        "--chats", type=int, default=1000, help="concurrent chats (one reader socket each)"
    )
    ap.add_argument("--rate", type=float, default=500.0, help="total msgs/s of the latency phase")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per measured phase")
    ap.add_argument("--setup", choices=["embedded", "shared", "both"], default="both")
    ap.add_argument(
        "--nodes", type=int, choices=[1, 2], default=1, help="desk processes in the shared setup"
    )
    ap.add_argument("--json", metavar="FILE", help="also write every figure as JSON to FILE")
    ap.add_argument("--workers", type=int, default=2, help="load-generator processes")
    ap.add_argument(
        "--per-consultant", type=int, default=10, help="chats per consultant (max_chats, 1..20)"
    )
    ap.add_argument(
        "--inflight",
        type=int,
        default=1,
        help="messages in flight per chat side in the throughput phase",
    )
    ap.add_argument(
        "--warmup", type=float, default=1.0, help="seconds of sending before the throughput window"
    )
    ap.add_argument(
        "--connect-concurrency",
        type=int,
        default=200,
        help="sockets connecting at once (all workers)",
    )
    ap.add_argument(
        "--open-concurrency",
        type=int,
        default=100,
        help="consultation.open calls at once (all workers)",
    )
    ap.add_argument(
        "--no-bare-redis", action="store_true", help="skip the bare relay on Redis (shared setup)"
    )
    ap.add_argument(
        "--bare-gc",
        choices=["tuned", "default"],
        default="tuned",
        help="collector settings of the bare relay (tuned = as `desk serve`)",
    )
    ap.add_argument(
        "--profile",
        choices=["throughput", "rate"],
        help="run the desk under cProfile over that phase and print its top functions",
    )
    ap.add_argument(
        "--probe",
        choices=["throughput", "rate"],
        help="run the desk under bench/probe_serve.py over that phase and print where a "
        "message's time goes: loop lag, long callbacks, collections, store and relay waits",
    )
    ap.add_argument(
        "--py-spy",
        choices=["throughput", "rate"],
        help="sample the desk with py-spy (pip install py-spy) over that phase; print hot spots",
    )
    ap.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (server logs)"
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of every target, interleaved (bare, desk, bare, desk, ...); the summary "
        "then also gives each ratio per round and its median, which a busy machine moves less",
    )
    args = ap.parse_args(argv)
    if args.chats < 1 or args.chats > 20000:
        ap.error("--chats must be 1..20000")
    if not 1 <= args.per_consultant <= 20:
        ap.error("--per-consultant must be 1..20 (the desk's max_chats range)")
    if not 1 <= args.workers <= 16:
        ap.error("--workers must be 1..16")
    if args.duration <= 0 or args.duration > 600 or args.rate <= 0:
        ap.error("--duration must be in (0, 600] and --rate positive")
    if not 1 <= args.inflight <= 16:
        ap.error("--inflight must be 1..16")
    if not 1 <= args.repeat <= 20:
        ap.error("--repeat must be 1..20")
    if args.profile and args.probe:
        ap.error("--profile and --probe each wrap `desk serve`; choose one")
    return args


def targets_for(args: argparse.Namespace) -> list[Target]:
    out = [
        Target(
            "bare",
            "bare relay: python-socketio in memory, no storage, no routing, 1 process",
            "bare",
            1,
            "memory",
        )
    ]
    if args.setup in ("embedded", "both"):
        out.append(
            Target(
                "desk-embedded",
                "desk, embedded setup: 1 `desk serve` on SQLite, no Redis",
                "desk",
                1,
                "sqlite",
            )
        )
    if args.setup in ("shared", "both"):
        if not args.no_bare_redis:
            out.append(
                Target(
                    "bare-redis",
                    f"bare relay on Socket.IO's Redis manager (bounded blocking pool), "
                    f"{args.nodes} process(es)",
                    "bare",
                    args.nodes,
                    "redis",
                )
            )
        out.append(
            Target(
                "desk-shared",
                f"desk, shared setup: {args.nodes} `desk serve` on PostgreSQL + Redis",
                "desk",
                args.nodes,
                "postgresql+redis",
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def on_term(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    soft, _ = raise_nofile_limit()
    need = 2 * (args.chats + math.ceil(args.chats / args.per_consultant)) + 200
    print(
        f"chat_load: {args.chats:,} chats, setup {args.setup}, {args.workers} generator processes, "
        f"{os.cpu_count()} cores, open-files limit {soft}",
        flush=True,
    )
    if soft < need // max(1, args.workers):
        print(f"  ! open-files limit {soft} may be too low for {args.chats:,} chats", flush=True)
    run_id = uuid4().hex[:6]
    tmp = Path(tempfile.mkdtemp(prefix="desk-bench-"))
    results: dict[str, dict[str, Any]] = {}
    rounds: list[list[dict[str, Any]]] = []
    failed = False
    try:
        for n in range(args.repeat):
            if args.repeat > 1:
                print(f"\n== round {n + 1} of {args.repeat} ==", flush=True)
            # Each round has its own files, database names and Redis prefix.
            where = tmp if args.repeat == 1 else tmp / f"round-{n + 1}"
            where.mkdir(exist_ok=True)
            tag = run_id if args.repeat == 1 else f"{run_id}r{n + 1}"
            failed = run_round(args, where, tag, results) or failed
            rounds.append(summary(results, args))
        rows = rounds[-1]
        print_summary(rows, args)
        if args.repeat > 1:
            print_rounds(rounds)
        if args.json:
            payload = {
                "args": vars(args),
                "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
                "results": results,
                "summary": rows,
                "rounds": rounds,
            }
            # Latency samples are summarised already; keep the file small.
            Path(args.json).write_text(json.dumps(payload, indent=2, default=str))
            print(f"\nfigures written to {args.json}")
    finally:
        if args.keep or failed:
            print(f"\nlogs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


def print_rounds(rounds: list[list[dict[str, Any]]]) -> None:
    """Each ratio of the summary, round by round, with its median."""
    print(f"\n== Ratios over {len(rounds)} rounds (median last) ==")
    keys = [(r["setup"], r["figure"], r["reference"]) for r in rounds[-1]]
    for setup, figure, reference in keys:
        values = [
            r["ratio"]
            for rows in rounds
            for r in rows
            if (r["setup"], r["figure"], r["reference"]) == (setup, figure, reference)
            and r["ratio"] is not None
        ]
        if not values:
            continue
        shown = " ".join(f"{v:.2f}x" for v in values)
        print(
            f"  {setup:<14} {figure:<24} vs {reference:<34} {shown}  "
            f"median {statistics.median(values):.2f}x"
        )


def run_round(
    args: argparse.Namespace, tmp: Path, run_id: str, results: dict[str, dict[str, Any]]
) -> bool:
    failed = False
    for target in targets_for(args):
        print(f"\n-- running: {target.label} ...", flush=True)
        try:
            res = run_target(target, args, tmp, run_id)
        except BenchError as exc:
            res = {
                "target": target.key,
                "label": target.label,
                "kind": target.kind,
                "error": str(exc),
            }
            failed = True
        except Exception:
            res = {
                "target": target.key,
                "label": target.label,
                "kind": target.kind,
                "error": traceback.format_exc(),
            }
            failed = True
        results[target.key] = res
        print_target(res)
    return failed


if __name__ == "__main__":
    sys.exit(main())
