"""The app factory: one call builds a whole desk node, so tests can run two in one process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from bots.api import BOTS_KEY, add_bot_routes
from bots.kb_api import add_kb_routes
from bots.runtime import WAIT_TICK_SECONDS, Bots
from desk.assets import add_asset_routes
from desk.backlog.actions import sweep_overdue
from desk.backlog.api import add_backlog_routes
from desk.bus import EventBus
from desk.clock import Clock
from desk.context import Desk
from desk.db import make_engine, make_sessionmaker, reader_engine
from desk.delivery.actions import purge_files
from desk.delivery.api import add_delivery_routes
from desk.delivery.ledger import add_ledger_routes
from desk.delivery.storage import LocalStorage
from desk.directory import Directory
from desk.etiquette import add_etiquette_routes
from desk.events import StaffLoggedOut
from desk.fanout import Fanout
from desk.http import DESK_KEY, add_routes
from desk.library_settings import add_library_settings_routes
from desk.phrases import add_phrase_routes
from desk.protocol import CONSOLE_NAMESPACE, READER_NAMESPACE
from desk.routing.router import Router
from desk.routing.sweeps import reconcile
from desk.scheduler import DeskScheduler
from desk.settings import Settings
from desk.shared.base import SharedState
from desk.shared.memory import MemoryState
from desk.sockets.console import ConsoleNamespace
from desk.sockets.reader import ReaderNamespace
from desk.sockets.server import BoundedRedisManager, DeskServer, build_server
from stats.api import add_stats_routes
from stats.dashboard import DASHBOARD_SECONDS
from stats.recorder import Recorder
from stats.rollup import ROLLUP_SECONDS, run_rollup
from transcripts.api import add_transcript_routes
from transcripts.cases import add_case_routes
from transcripts.index import Indexer, index_pending
from transcripts.retention import anonymise_expired
from transcripts.store import MessageStore

log = logging.getLogger(__name__)

SIO_KEY = web.AppKey("sio", DeskServer)
ROUTER_KEY = web.AppKey("router", Router)
#: The 72-hour sweep of the backlog runs this often (once across nodes).
OVERDUE_SWEEP_SECONDS = 60.0
#: Stored files past their retention are removed this often (once across nodes).
PURGE_SECONDS = 3600.0
#: Ended chats an earlier indexing missed are indexed this often (once across nodes).
INDEX_SECONDS = 30.0


async def make_state(settings: Settings) -> SharedState:
    if settings.redis_url:
        from desk.shared.redis import RedisState

        return RedisState.from_url(
            settings.redis_url,
            prefix=settings.redis_prefix,
            max_connections=settings.redis_pool_size,
        )
    return MemoryState()


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    sio = build_server(
        redis_url=settings.redis_url,
        channel=f"{settings.redis_prefix}socketio",
        pool_size=settings.redis_pool_size,
        max_packet_bytes=settings.max_packet_bytes,
    )
    sio.attach(app)
    app[SIO_KEY] = sio
    add_routes(app)
    add_phrase_routes(app)
    add_bot_routes(app)
    add_kb_routes(app)
    add_backlog_routes(app)
    add_etiquette_routes(app)
    add_library_settings_routes(app)
    add_delivery_routes(app)
    add_ledger_routes(app)
    add_transcript_routes(app)
    add_case_routes(app)
    add_stats_routes(app)
    add_asset_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        sessions = make_sessionmaker(engine)
        reads = make_sessionmaker(reader_engine(engine))
        state = await make_state(settings)
        desk_clock = clock or Clock()
        store = MessageStore(
            engine,
            reader_engine(engine),
            # Messages carry the desk's time: the tests' clock when they move it.
            now=lambda: datetime.fromtimestamp(desk_clock.now(), UTC),
        )
        await store.start()
        desk = Desk(
            settings=settings,
            engine=engine,
            sessions=sessions,
            reads=reads,
            state=state,
            bus=EventBus(),
            store=store,
            clock=desk_clock,
            directory=Directory(reads),
            files=LocalStorage(settings.files_dir),
        )
        Fanout(sio, desk).attach(desk.bus)
        Indexer(desk).attach(desk.bus)
        Recorder(desk).attach(desk.bus)
        bots = Bots(desk)
        bots.attach(desk.bus)
        app[BOTS_KEY] = bots
        console = ConsoleNamespace(CONSOLE_NAMESPACE, desk)
        namespaces = [ReaderNamespace(READER_NAMESPACE, desk), console]
        desk.bus.subscribe(StaffLoggedOut, console.logged_out)
        for ns in namespaces:
            sio.register_namespace(ns)

        async def disconnect_all(_: web.Application) -> None:
            # A node going down closes its connections at once, so clients reconnect (to
            # another node) and resume, instead of waiting for their ping timeout. It closes
            # them at the Engine.IO level: socket.io-client takes that as a lost transport and
            # reconnects by itself, where a namespace disconnect would tell it to stay away.
            # Not waiting for each socket's send queue: a client already gone never drains it.
            for sock in list(sio.eio.sockets.values()):
                await sock.close(wait=False, reason=sio.eio.reason.SERVER_DISCONNECT)
            sio.eio.sockets.clear()
            await sio.shutdown()

        app.on_shutdown.append(disconnect_all)
        router = Router(desk)
        desk.request_routing = router.request
        app[DESK_KEY] = desk
        app[ROUTER_KEY] = router
        # After a restart the in-process state is empty: queue the waiting chats and count the
        # held ones again now, not at the first reconcile tick.
        await reconcile(desk)
        scheduler = (
            DeskScheduler(
                desk,
                router.request,
                [
                    ("waiting-bot", WAIT_TICK_SECONDS, lambda _desk: bots.tell_waiting()),
                    ("backlog-overdue", OVERDUE_SWEEP_SECONDS, sweep_overdue),
                    ("purge-files", PURGE_SECONDS, purge_files),
                    ("index-transcripts", INDEX_SECONDS, index_pending),
                    ("anonymise-transcripts", PURGE_SECONDS, anonymise_expired),
                    ("stats-rollup", ROLLUP_SECONDS, run_rollup),
                ],
                [
                    (
                        "console-sessions",
                        settings.heartbeat_seconds,
                        console.hang_up_ended_sessions,
                    ),
                    ("dashboard", DASHBOARD_SECONDS, console.push_dashboard),
                ],
            )
            if settings.scheduler
            else None
        )
        if scheduler is not None:
            scheduler.start()
        log.info(
            "desk node started",
            extra={"node": settings.node_id, "shared": bool(settings.redis_url)},
        )
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            if desk.background:
                # Work started off a sender's path (the FAQ bot) finishes before the store stops.
                await asyncio.wait(list(desk.background), timeout=5.0)
            await store.stop()
            await state.close()
            manager = sio.manager
            if isinstance(manager, BoundedRedisManager):
                await manager.aclose()
            await engine.dispose()

    app.cleanup_ctx.append(lifecycle)
    return app
