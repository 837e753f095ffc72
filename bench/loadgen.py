"""The load generator's worker process: one asyncio loop holding whole chats (both sides).

``bench/chat_load.py`` starts a few of these with multiprocessing and drives them over a pipe,
one command at a time (``setup``, ``connect``, ``open``, ``throughput``, ``rate``, ``close``).
Each reply is a plain dict of counts, times (``time.time()``) and latency samples (seconds).

A worker owns both the reader socket and the consultant socket of each of its chats (the desk
gets one library per worker, so routing never pairs sockets of two workers), which is why a
latency is simply ``time.monotonic()`` at receipt minus the ``time.monotonic()`` the sender put
at the start of the message body.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import resource
import signal
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import aiohttp
import socketio

READER_NS = "/reader"
CONSOLE_NS = "/console"
QUESTION = "bench: how do I find a doctoral thesis in the catalogue?"
#: After the send time: makes a body about as long as a short chat line (~70 characters).
PAD = "|a short line of chat text, as a reader or a consultant would type it"
ACK_TIMEOUT = 30.0


def raise_nofile_limit() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit; returns the (soft, hard) now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


@dataclass(eq=False)
class Side:
    """One socket: a reader (one chat) or a consultant (several chats)."""

    kind: str  # "reader" | "consultant"
    base: str
    index: int
    sio: socketio.AsyncClient | None = None
    token: str = ""
    cookie: str = ""
    username: str = ""
    password: str = ""
    #: Consultation ids (the desk) or chat ids (the bare relay) this socket talks in.
    chats: list[int] = field(default_factory=list)
    connected: bool = False

    @property
    def ns(self) -> str:
        return READER_NS if self.kind == "reader" else CONSOLE_NS

    @property
    def other(self) -> str:
        return "consultant" if self.kind == "reader" else "reader"


def _error_code(ack: Any) -> str:
    if isinstance(ack, dict):
        err = ack.get("error")
        if isinstance(err, dict):
            return str(err.get("code", "?"))
    return f"bad_ack:{type(ack).__name__}"


class Worker:
    def __init__(self, wid: int, spec: dict[str, Any]) -> None:
        self.wid = wid
        self.spec = spec
        self.kind: str = spec["kind"]  # "desk" | "bare"
        bases: list[str] = spec["bases"]
        n_chats: int = spec["chats"]
        cap: int = spec["cap"]
        self.readers = [Side("reader", bases[i % len(bases)], i) for i in range(n_chats)]
        if self.kind == "desk":
            creds: list[list[str]] = spec["consultants"]
            self.consultants = [
                Side("consultant", bases[j % len(bases)], j, username=u, password=p)
                for j, (u, p) in enumerate(creds)
            ]
        else:
            n_cons = -(-n_chats // cap)
            self.consultants = [Side("consultant", bases[j % len(bases)], j) for j in range(n_cons)]
            base_id: int = spec["chat_base"]
            for i, r in enumerate(self.readers):
                r.chats = [base_id + i]
                self.consultants[i // cap].chats.append(base_id + i)
        #: (reader, consultant, chat id) of every chat with both sides ready.
        self.pairs: list[tuple[Side, Side, int]] = []
        self.assigned: dict[int, Side] = {}
        self.want_assigned: set[int] = set()
        self.all_assigned = asyncio.Event()
        self.last_assigned_at = 0.0
        self.queue_changed = 0
        #: Sockets that closed while we still used them, by phase, and why.
        self.phase = "setup"
        self.dropped: Counter[str] = Counter()
        self.drop_reasons: Counter[str] = Counter()
        self.msg_counter = itertools.count()
        self.reader_http: aiohttp.ClientSession | None = None
        self._reset_counters()

    # -- measurement state ----------------------------------------------------------------
    def _reset_counters(self) -> None:
        #: Monotonic window: receipts in it are counted, messages sent in it are timed.
        self.win = (float("inf"), float("-inf"))
        self.received_in_window = 0
        self.received_total = 0
        self.latencies: list[float] = []
        self.acked_in_window = 0
        self.acked_total = 0
        self.sent_in_window = 0
        self.refused: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()

    def _message_handler(self, side: Side) -> Callable[[Any], None]:
        other = side.other

        def on_message(data: Any) -> None:
            now = time.monotonic()
            if not isinstance(data, dict) or data.get("author_kind") != other:
                return  # the echo of one's own message, or a system line
            body = data.get("body")
            if not isinstance(body, str):
                return
            cut = body.find("|")
            try:
                sent = float(body[:cut]) if cut > 0 else None
            except ValueError:
                sent = None
            if sent is None:
                return  # the opening question, which carries no time
            self.received_total += 1
            w0, w1 = self.win
            if w0 <= now <= w1:
                self.received_in_window += 1
            if w0 <= sent <= w1:
                self.latencies.append(now - sent)

        return on_message

    def _assigned_handler(self, side: Side) -> Callable[[Any], None]:
        def on_assigned(data: Any) -> None:
            try:
                cid = int(data["consultation"]["id"])
            except (KeyError, TypeError, ValueError):
                self.errors["bad_chat_assigned"] += 1
                return
            if cid not in self.assigned:
                self.assigned[cid] = side
                side.chats.append(cid)
                self.last_assigned_at = time.time()
                if cid in self.want_assigned and self.want_assigned <= self.assigned.keys():
                    self.all_assigned.set()

        return on_assigned

    def _disconnect_handler(self, side: Side) -> Callable[..., None]:
        def on_disconnect(reason: Any = None) -> None:
            if side.connected:
                side.connected = False
                self.dropped[self.phase] += 1
                self.drop_reasons[str(reason)] += 1

        return on_disconnect

    def _count_queue_changed(self, _data: Any = None) -> None:
        self.queue_changed += 1

    # -- socket helpers -------------------------------------------------------------------
    async def call(self, side: Side, event: str, data: Any, ack_wait: float = ACK_TIMEOUT) -> Any:
        """Emit with an acknowledgement and wait for it (cheaper than AsyncClient.call, which
        wraps every wait in a task)."""
        assert side.sio is not None
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(*args: Any) -> None:
            if not fut.done():
                fut.set_result(args[0] if len(args) == 1 else args)

        await side.sio.emit(event, data, namespace=side.ns, callback=done)
        async with asyncio.timeout(ack_wait):
            return await fut

    async def send_message(self, side: Side, chat: int) -> bool:
        if not side.connected:
            self.errors["socket_dropped"] += 1
            return False
        n = next(self.msg_counter)
        sent = time.monotonic()
        payload = {
            "consultation_id": chat,
            "client_msg_id": f"b{self.wid}-{n}",
            "body": f"{sent:.6f}{PAD}",
        }
        w0, w1 = self.win
        if w0 <= sent <= w1:
            self.sent_in_window += 1
        try:
            ack = await self.call(side, "message.send", payload)
        except TimeoutError:
            self.errors["ack_timeout"] += 1
            return False
        except Exception as exc:
            self.errors[type(exc).__name__] += 1
            return False
        if isinstance(ack, dict) and ack.get("ok") is True:
            self.acked_total += 1
            now = time.monotonic()
            if w0 <= now <= w1:
                self.acked_in_window += 1
            return True
        self.refused[_error_code(ack)] += 1
        return False

    # -- commands -------------------------------------------------------------------------
    async def cmd_setup(self) -> dict[str, Any]:
        """Reader tokens and consultant sessions over HTTP (not part of any measured rate)."""
        t0 = time.time()
        self.reader_http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()
        )
        if self.kind != "desk":
            return {"seconds": time.time() - t0, "errors": {}}
        errors: Counter[str] = Counter()
        origin: str = self.spec["origin"]
        library: str = self.spec["library"]
        sem = asyncio.Semaphore(self.spec["http_concurrency"])
        login_sem = asyncio.Semaphore(self.spec["login_concurrency"])
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=timeout,
        ) as http:

            async def visitor(r: Side) -> None:
                async with sem:
                    for _ in range(3):
                        try:
                            async with http.post(
                                f"{r.base}/api/readers/visitor",
                                json={"library": library},
                                headers={"Origin": origin},
                            ) as resp:
                                body = await resp.json()
                                if resp.status == 200 and body.get("ok"):
                                    r.token = body["token"]
                                    return
                                errors[f"visitor_http_{resp.status}"] += 1
                        except Exception as exc:
                            errors[f"visitor_{type(exc).__name__}"] += 1
                        await asyncio.sleep(0.2)

            async def login(c: Side) -> None:
                async with login_sem:
                    for _ in range(3):
                        try:
                            async with http.post(
                                f"{c.base}/api/login",
                                json={"username": c.username, "password": c.password},
                                headers={"Origin": c.base},
                            ) as resp:
                                await resp.read()
                                morsel = resp.cookies.get("desk_session")
                                if resp.status == 200 and morsel is not None:
                                    c.cookie = morsel.value
                                    return
                                errors[f"login_http_{resp.status}"] += 1
                        except Exception as exc:
                            errors[f"login_{type(exc).__name__}"] += 1
                        await asyncio.sleep(0.2)

            await asyncio.gather(
                *(login(c) for c in self.consultants), *(visitor(r) for r in self.readers)
            )
        return {
            "seconds": time.time() - t0,
            "errors": dict(errors),
            "readers_ready": sum(1 for r in self.readers if r.token),
            "consultants_ready": sum(1 for c in self.consultants if c.cookie),
        }

    async def _connect_one(self, side: Side, sem: asyncio.Semaphore, errors: Counter[str]) -> None:
        if self.kind == "desk" and not (side.token or side.cookie):
            errors["no_credentials"] += 1
            return
        async with sem:
            for attempt in range(2):
                sio = socketio.AsyncClient(
                    reconnection=False,
                    handle_sigint=False,
                    http_session=self.reader_http if side.kind == "reader" else None,
                )
                sio.on("message", self._message_handler(side), namespace=side.ns)
                sio.on("disconnect", self._disconnect_handler(side), namespace=side.ns)
                if side.kind == "consultant" and self.kind == "desk":
                    sio.on("chat.assigned", self._assigned_handler(side), namespace=CONSOLE_NS)
                    sio.on("queue.changed", self._count_queue_changed, namespace=CONSOLE_NS)
                headers: dict[str, str]
                auth: dict[str, Any]
                if self.kind == "desk":
                    if side.kind == "reader":
                        headers = {"Origin": self.spec["origin"]}
                        auth = {"library": self.spec["library"], "token": side.token}
                    else:
                        headers = {"Origin": side.base, "Cookie": f"desk_session={side.cookie}"}
                        auth = {"status": "online"}
                else:
                    headers = {"Origin": self.spec["origin"]}
                    auth = (
                        {"chat": side.chats[0]} if side.kind == "reader" else {"chats": side.chats}
                    )
                try:
                    await sio.connect(
                        side.base,
                        namespaces=[side.ns],
                        auth=auth,
                        headers=headers,
                        transports=["websocket"],
                        wait_timeout=30,
                    )
                except Exception as exc:
                    errors[f"{side.kind}_{type(exc).__name__}"] += 1
                    with contextlib.suppress(Exception):
                        await sio.disconnect()
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                side.sio = sio
                side.connected = True
                return

    async def cmd_connect(self) -> dict[str, Any]:
        """Consultants first (they must be online before any chat opens), then readers."""
        errors: Counter[str] = Counter()
        sem = asyncio.Semaphore(self.spec["connect_concurrency"])
        t0 = time.time()
        await asyncio.gather(*(self._connect_one(c, sem, errors) for c in self.consultants))
        await asyncio.gather(*(self._connect_one(r, sem, errors) for r in self.readers))
        t1 = time.time()
        everyone = [*self.consultants, *self.readers]
        return {
            "start": t0,
            "end": t1,
            "connected": sum(1 for s in everyone if s.connected),
            "failed": sum(1 for s in everyone if not s.connected),
            "errors": dict(errors),
            "dropped": dict(self.dropped),
        }

    async def cmd_open(self) -> dict[str, Any]:
        """The desk: every reader opens a consultation with a question; wait until routing
        has given each to a consultant of this worker. The bare relay: pair as planned."""
        errors: Counter[str] = Counter()
        t0 = time.time()
        if self.kind == "bare":
            by_chat = {cid: c for c in self.consultants if c.connected for cid in c.chats}
            for r in self.readers:
                c = by_chat.get(r.chats[0]) if r.connected else None
                if c is not None:
                    self.pairs.append((r, c, r.chats[0]))
            self._freeze_heap()
            return {
                "start": t0,
                "end": time.time(),
                "opened": len(self.pairs),
                "assigned": len(self.pairs),
                "errors": {},
            }

        async def open_one(r: Side) -> None:
            payload = {"language": "zh-CN", "question": QUESTION, "client_msg_id": uuid4().hex}
            try:
                ack = await self.call(r, "consultation.open", payload, ack_wait=60)
            except TimeoutError:
                errors["open_ack_timeout"] += 1
                return
            except Exception as exc:
                errors[f"open_{type(exc).__name__}"] += 1
                return
            if isinstance(ack, dict) and ack.get("ok") is True:
                r.chats = [int(ack["consultation"]["id"])]
            else:
                errors[f"open_refused_{_error_code(ack)}"] += 1

        # In waves, each waited for (assigned, and this loop's backlog of console broadcasts
        # drained) before the next: unbounded backlogs delay pongs until the server drops us.
        deadline = time.monotonic() + float(self.spec["assign_wait"])
        ready = [r for r in self.readers if r.connected]
        wave = max(1, int(self.spec["open_concurrency"]))
        opened = 0
        for k in range(0, len(ready), wave):
            chunk = ready[k : k + wave]
            await asyncio.gather(*(open_one(r) for r in chunk))
            ids = {r.chats[0] for r in chunk if r.chats}
            opened += len(ids)
            await self._wait_assigned(ids, min(deadline, time.monotonic() + 60))
            await self._drain_backlog(deadline)
            if time.monotonic() >= deadline:
                errors["open_phase_deadline"] += 1
                break
        want = {r.chats[0] for r in self.readers if r.chats}
        await self._wait_assigned(want, deadline)
        for r in self.readers:
            if r.chats and r.chats[0] in self.assigned:
                self.pairs.append((r, self.assigned[r.chats[0]], r.chats[0]))
        self._freeze_heap()
        return {
            "start": t0,
            "end": max(self.last_assigned_at, t0),
            "opened": opened,
            "assigned": len(self.pairs),
            "queue_changed": self.queue_changed,
            "errors": dict(errors),
            "dropped": dict(self.dropped),
        }

    async def _wait_assigned(self, ids: set[int], deadline: float) -> None:
        self.want_assigned = ids
        self.all_assigned.clear()
        if ids <= self.assigned.keys():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await self.all_assigned.wait()

    @staticmethod
    async def _drain_backlog(deadline: float, lag_ok: float = 0.005) -> None:
        """Wait until one pass over the loop's ready callbacks takes under ``lag_ok``."""
        while time.monotonic() < deadline:
            t = time.monotonic()
            await asyncio.sleep(0)
            if time.monotonic() - t < lag_ok:
                return
            await asyncio.sleep(0.05)

    @staticmethod
    def _freeze_heap() -> None:
        # Thousands of long-lived client objects: keep full collections from pausing the
        # generator's loop (its pauses would show up as relay latency).
        gc.collect()
        gc.freeze()

    def _window(self, start_at: float, duration: float) -> tuple[float, float]:
        t0 = time.monotonic() + (start_at - time.time())
        return t0, t0 + duration

    def _phase_result(self, duration: float) -> dict[str, Any]:
        return {
            "duration": duration,
            "received_in_window": self.received_in_window,
            "received_total": self.received_total,
            "sent_in_window": self.sent_in_window,
            "acked_in_window": self.acked_in_window,
            "acked_total": self.acked_total,
            "timed": len(self.latencies),
            "latencies": self.latencies,
            "refused": dict(self.refused),
            "errors": dict(self.errors),
            "chats": len(self._live_pairs()),
            "dropped": dict(self.dropped),
            "drop_reasons": dict(self.drop_reasons),
        }

    def _live_pairs(self) -> list[tuple[Side, Side, int]]:
        return [(r, c, chat) for r, c, chat in self.pairs if r.connected and c.connected]

    async def cmd_throughput(
        self, start_at: float, duration: float, warmup: float, inflight: int
    ) -> dict[str, Any]:
        """Every side of every chat sends as fast as its acks come back, ``inflight`` at a
        time per chat side, from ``start_at - warmup`` to ``start_at + duration``."""
        self._reset_counters()
        t0, t1 = self._window(start_at, duration)
        self.win = (t0, t1)
        await asyncio.sleep(max(0.0, t0 - warmup - time.monotonic()))

        async def pump(side: Side, chat: int) -> None:
            while time.monotonic() < t1:
                if not await self.send_message(side, chat):
                    await asyncio.sleep(0.05)

        tasks = [
            asyncio.create_task(pump(side, chat))
            for r, c, chat in self._live_pairs()
            for side in (r, c)
            for _ in range(inflight)
        ]
        if tasks:
            _, pending = await asyncio.wait(
                tasks, timeout=max(0.0, t1 - time.monotonic()) + ACK_TIMEOUT + 5
            )
            for t in pending:
                t.cancel()
        await asyncio.sleep(0.5)  # the last relays of acked messages
        return self._phase_result(duration)

    async def cmd_rate(self, start_at: float, duration: float, rate: float) -> dict[str, Any]:
        """Open loop at ``rate`` messages/s over this worker's chats, alternating sides: each
        chat sends once from the reader and once from the consultant per round."""
        self._reset_counters()
        t0, t1 = self._window(start_at, duration)
        self.win = (t0, t1)
        plan: list[tuple[Side, int]] = []
        live = self._live_pairs()
        for k, (r, c, chat) in enumerate(live):
            plan.append((r, chat) if k % 2 == 0 else (c, chat))
        for k, (r, c, chat) in enumerate(live):
            plan.append((c, chat) if k % 2 == 0 else (r, chat))
        sent = 0
        if plan and rate > 0:
            interval = 1.0 / rate
            tasks: set[asyncio.Task[bool]] = set()
            next_at = t0
            i = 0
            await asyncio.sleep(max(0.0, t0 - time.monotonic()))
            while next_at < t1:
                delay = next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                side, chat = plan[i % len(plan)]
                i += 1
                task = asyncio.create_task(self.send_message(side, chat))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                sent += 1
                next_at += interval
            if tasks:
                await asyncio.wait(set(tasks), timeout=ACK_TIMEOUT + 5)
        await asyncio.sleep(0.5)
        out = self._phase_result(duration)
        out["scheduled"] = sent
        return out

    async def cmd_close(self) -> dict[str, Any]:
        t0 = time.time()
        sem = asyncio.Semaphore(500)

        async def close(side: Side) -> None:
            if side.sio is None:
                return
            async with sem:
                try:
                    async with asyncio.timeout(10):
                        await side.sio.disconnect()
                except Exception:
                    pass

        try:
            async with asyncio.timeout(40):
                await asyncio.gather(*(close(s) for s in [*self.readers, *self.consultants]))
        except TimeoutError:
            pass
        if self.reader_http is not None:
            await self.reader_http.close()
        return {"seconds": time.time() - t0}


async def _serve(wid: int, conn: Any, spec: dict[str, Any]) -> None:
    worker = Worker(wid, spec)
    loop = asyncio.get_running_loop()
    while True:
        msg = await loop.run_in_executor(None, conn.recv)
        cmd = msg.pop("cmd")
        worker.phase = cmd
        try:
            if cmd == "setup":
                reply = await worker.cmd_setup()
            elif cmd == "connect":
                reply = await worker.cmd_connect()
            elif cmd == "open":
                reply = await worker.cmd_open()
            elif cmd == "throughput":
                reply = await worker.cmd_throughput(**msg)
            elif cmd == "rate":
                reply = await worker.cmd_rate(**msg)
            elif cmd == "close":
                reply = await worker.cmd_close()
            else:
                reply = {"error": f"unknown command {cmd!r}"}
        except Exception:
            reply = {"error": traceback.format_exc()}
        conn.send(reply)
        if cmd == "close":
            return


def worker_main(wid: int, conn: Any, spec: dict[str, Any]) -> None:
    """Entry point of a worker process (spawned; the parent owns Ctrl-C)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Dropped connections are counted per phase and reported; don't print each one.
    for name in ("engineio.client", "socketio.client"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    raise_nofile_limit()
    try:
        asyncio.run(_serve(wid, conn, spec))
    finally:
        conn.close()
