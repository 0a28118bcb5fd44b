"""benchmarks.servers.settle: the wait between benchmark cells, on real processes."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.servers import settle


def test_an_idle_process_settles_at_once() -> None:
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert settle(idle.pid) < 1.0
    finally:
        idle.kill()
        idle.wait()


def test_a_busy_process_is_waited_for_up_to_the_limit() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        assert settle(busy.pid, limit=0.5) >= 0.5
    finally:
        busy.kill()
        busy.wait()
