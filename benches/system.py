"""What this host is: CPU model, usable CPUs, cache sizes, memory, versions.

Read from the system (``/proc/cpuinfo``, ``/sys/devices/system/cpu``, ``/proc/meminfo``,
``os.sched_getaffinity``) so that calibration and benchmark results say where they ran.
Missing files give None rather than a guess.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

_CACHE_DIR = Path("/sys/devices/system/cpu/cpu0/cache")


@dataclass(frozen=True)
class Cache:
    level: int
    size_bytes: int
    shared_by_cpus: int
    line_bytes: int


@dataclass(frozen=True)
class SystemInfo:
    cpu_model: str
    cpus: int
    caches: tuple[Cache, ...]
    memory_bytes: int | None

    def cache(self, level: int) -> Cache | None:
        """The unified or data cache of ``level`` (1, 2, 3), if the system reports it."""
        return next((cache for cache in self.caches if cache.level == level), None)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _size_bytes(text: str) -> int:
    """'512K' / '32768K' / '1M' -> bytes."""
    factor = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
    return int(text.rstrip("KMG")) * factor


def _shared_count(cpu_list: str) -> int:
    """'0-1' or '0,2,4' -> number of CPUs."""
    count = 0
    for part in cpu_list.split(","):
        low, _, high = part.partition("-")
        count += int(high or low) - int(low) + 1
    return count


def _caches() -> tuple[Cache, ...]:
    caches = []
    for index in sorted(_CACHE_DIR.glob("index*")):
        kind, level, size = (_read(index / name) for name in ("type", "level", "size"))
        if kind == "Instruction" or not (level and size):
            continue
        caches.append(Cache(level=int(level), size_bytes=_size_bytes(size),
                            shared_by_cpus=_shared_count(_read(index / "shared_cpu_list") or "0"),
                            line_bytes=int(_read(index / "coherency_line_size") or 64)))
    return tuple(caches)


def _cpu_model() -> str:
    for line in (_read(Path("/proc/cpuinfo")) or "").splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    for line in (_read(Path("/proc/meminfo")) or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def system_info() -> SystemInfo:
    """This host as the operating system reports it."""
    return SystemInfo(cpu_model=_cpu_model(), cpus=len(os.sched_getaffinity(0)),
                      caches=_caches(), memory_bytes=_memory_bytes())


def git_revision() -> str | None:
    """The checkout's commit, when seedchip runs from a git clone."""
    try:
        result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=5, cwd=Path(__file__).parent)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None
