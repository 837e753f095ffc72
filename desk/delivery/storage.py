"""Where delivered files live: content-addressed, behind a small interface.

The desk names a stored file by the SHA-256 of its bytes, never by anything a request says,
so no path from a request ever reaches the filesystem, and the same document sent twice is
kept once. ``LocalStorage`` keeps them under one directory (``DESK_FILES_DIR``); in the shared
setup every node mounts the same directory. An object store can take its place by
implementing ``FileStorage``.

Writing goes in steps: ``receive`` streams an upload into a temporary file (hashing and
counting as it goes, refusing past the limit); ``place`` links it into place (so it can be
downloaded the moment its message is announced); the caller commits the ledger row with the
message; ``keep`` then moves the temporary copy over the placed one (which puts the file
back should a purge have taken it meanwhile). ``discard`` after a refusal. Purging
(``set_aside``, then ``drop`` or ``restore``) is arranged so that a new upload of the same
bytes racing a purge is never left without its file (see
``desk.delivery.actions.purge_files``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from desk.errors import TooLarge

#: Bytes written at a time (and handed to the writer thread).
CHUNK = 256 * 1024
_SHA = frozenset("0123456789abcdef")


@dataclass(slots=True)
class Received:
    sha256: str
    size: int
    #: The first bytes, to check the file's kind.
    head: bytes
    temp: Path
    kept: bool = field(default=False)
    #: ``place`` created the stored copy (it was not there before).
    placed: bool = field(default=False)


def too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"the file is larger than {limit // (1024 * 1024)} MB", code="file_too_large", limit=limit
    )


class FileStorage(Protocol):
    async def receive(
        self, chunks: AsyncIterator[bytes], *, max_bytes: int, head_bytes: int
    ) -> Received: ...

    async def place(self, received: Received) -> None: ...

    async def keep(self, received: Received) -> None: ...

    async def discard(self, received: Received, *, unplace: bool) -> None: ...

    def local_path(self, sha256: str) -> Path | None: ...

    async def set_aside(self, sha256: str) -> Path | None: ...

    async def restore(self, sha256: str, aside: Path) -> None: ...

    async def drop(self, aside: Path) -> None: ...


def _valid_sha(sha256: str) -> bool:
    return len(sha256) == 64 and set(sha256) <= _SHA


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"

    def _path(self, sha256: str) -> Path:
        if not _valid_sha(sha256):
            raise ValueError("not a content hash")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def receive(
        self, chunks: AsyncIterator[bytes], *, max_bytes: int, head_bytes: int
    ) -> Received:
        await asyncio.to_thread(self._tmp.mkdir, parents=True, exist_ok=True)
        temp = self._tmp / f"up-{secrets.token_hex(12)}"
        digest = hashlib.sha256()
        size = 0
        head = b""
        fh = await asyncio.to_thread(open, temp, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(max_bytes)
                digest.update(chunk)
                if len(head) < head_bytes:
                    head += chunk[: head_bytes - len(head)]
                await asyncio.to_thread(fh.write, chunk)
            await asyncio.to_thread(fh.close)
        except BaseException:
            await asyncio.to_thread(fh.close)
            await asyncio.to_thread(temp.unlink, missing_ok=True)
            raise
        return Received(digest.hexdigest(), size, head, temp)

    async def place(self, received: Received) -> None:
        def link() -> bool:
            target = self._path(received.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(received.temp, target)
            except FileExistsError:
                return False
            return True

        received.placed = await asyncio.to_thread(link)

    async def keep(self, received: Received) -> None:
        def move() -> None:
            target = self._path(received.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                if os.path.samefile(received.temp, target):
                    # ``place`` linked it: rename(2) between two links of one file does
                    # nothing, so the temporary name goes by itself.
                    received.temp.unlink()
                    return
            except FileNotFoundError:
                pass  # a purge took the placed copy meanwhile: put it back
            # Same bytes, same name: replacing another copy changes nothing.
            os.replace(received.temp, target)

        await asyncio.to_thread(move)
        received.kept = True

    async def discard(self, received: Received, *, unplace: bool) -> None:
        """Forget an upload that was refused; ``unplace``: also the stored copy ``place``
        made (the caller knows no delivery uses those bytes)."""
        if received.kept:
            return
        await asyncio.to_thread(received.temp.unlink, missing_ok=True)
        if unplace and received.placed:
            await asyncio.to_thread(self._path(received.sha256).unlink, missing_ok=True)

    def local_path(self, sha256: str) -> Path | None:
        if not _valid_sha(sha256):
            return None
        path = self._path(sha256)
        return path if path.is_file() else None

    async def set_aside(self, sha256: str) -> Path | None:
        def move() -> Path | None:
            source = self._path(sha256)
            aside = self._tmp / f"purge-{sha256}-{secrets.token_hex(6)}"
            self._tmp.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(source, aside)
            except FileNotFoundError:
                return None
            return aside

        return await asyncio.to_thread(move)

    async def restore(self, sha256: str, aside: Path) -> None:
        def move() -> None:
            target = self._path(sha256)
            if target.exists():
                aside.unlink(missing_ok=True)  # a new upload put it back already
            else:
                os.replace(aside, target)

        await asyncio.to_thread(move)

    async def drop(self, aside: Path) -> None:
        await asyncio.to_thread(aside.unlink, missing_ok=True)
