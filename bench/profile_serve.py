#!/usr/bin/env python
"""``desk serve`` under cProfile, switched by signals, for ``chat_load.py --profile PHASE``.

SIGUSR1 starts profiling the event loop's thread; SIGUSR2 stops it and writes the stats to the
file named by ``BENCH_PROFILE_OUT`` (read them with ``python -m pstats FILE``). Only the main
thread is profiled: SQLite calls that aiosqlite runs in its own thread show up as waits.
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
from typing import Any

from desk.cli import main

_profile = cProfile.Profile()


def _start(_signum: int, _frame: Any) -> None:
    _profile.enable()


def _stop(_signum: int, _frame: Any) -> None:
    _profile.disable()
    _profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    sys.argv = ["desk", "serve"]
    main()
