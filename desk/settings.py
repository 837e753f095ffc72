"""Settings, read from ``DESK_*`` environment variables with embedded defaults."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    """Every knob of a desk node. Defaults give the embedded setup `make run` starts."""

    model_config = SettingsConfigDict(env_prefix="DESK_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    #: Where the desk itself is reached; the console is accepted only from here.
    public_origin: str = ""
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'desk.sqlite3'}"
    #: Set for the shared setup: presence, queue, claims and Socket.IO fan-out go through Redis.
    redis_url: str | None = None
    #: Prefix of every Redis key this desk writes, so several desks (or test runs) can share one.
    redis_prefix: str = "desk:"
    #: Connections in the bounded pool Socket.IO's Redis manager and the shared state use.
    redis_pool_size: int = Field(32, ge=2, le=1024)
    node_id: str = Field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")

    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"

    #: A consultant whose console dropped keeps their chats this long before they are requeued.
    consultant_grace_seconds: float = Field(60.0, gt=0)
    #: A reader gone this long ends their consultation as abandoned.
    reader_grace_seconds: float = Field(180.0, gt=0)
    #: How often each node refreshes the heartbeats of the sockets it holds.
    heartbeat_seconds: float = Field(10.0, gt=0)
    #: How often the router and the sweeps run on their own (events also trigger routing).
    tick_seconds: float = Field(1.0, gt=0)

    max_message_chars: int = Field(4000, ge=1)
    #: Largest Socket.IO packet accepted; a bigger one closes the connection.
    max_packet_bytes: int = Field(64 * 1024, ge=1024)
    session_days: float = Field(7.0, gt=0)
    cookie_secure: bool = False
    #: Extra origins allowed to open the consultant console (besides public_origin).
    console_origins: list[str] = Field(default_factory=list)
    #: The built web front ends (`npm run build` in web/); by default the checkout's web/dist.
    static_dir: Path = Path(__file__).resolve().parents[1] / "web" / "dist"
    #: Outgoing mail (answers to backlog tickets); unset host: no mail is sent.
    smtp_host: str | None = None
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = "desk@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    #: Delivered files (content-addressed); in the shared setup every node mounts the same one.
    files_dir: Path = DEFAULT_DATA_DIR / "files"
    #: Stored files are purged this many days after their last delivery; ledger rows stay.
    file_retention_days: float = Field(180.0, gt=0)
    #: No upload is ever larger than this, whatever a library allows.
    max_upload_mb: int = Field(100, ge=1, le=2048)
    #: Ended chats are anonymised this many days after (personal data masked, readers
    #: unlinked); statistics stay.
    transcript_retention_days: float = Field(730.0, gt=0)
    #: Days and months of the reports (the delivery ledger's counts) are this zone's.
    report_timezone: str = "Asia/Shanghai"
    #: Run APScheduler jobs (routing ticks, sweeps) in this process.
    scheduler: bool = True

    @field_validator("public_origin")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @field_validator("report_timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        # A typo would otherwise fail every statistic written and every report read.
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{v!r} is not a time zone name (such as Asia/Shanghai)") from exc
        return v

    def origin(self) -> str:
        return self.public_origin or f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
