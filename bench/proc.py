"""Resident memory (RSS, and PSS which counts shared pages once) and CPU time of process trees, from /proc."""

import os
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _status_kib(pid: int, field: str, filename: str = "status") -> int:
    try:
        for line in (PROC / str(pid) / filename).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _stat_fields(pid: int) -> list[str]:
    """Fields 3.. of /proc/<pid>/stat; the command name in field 2 may hold spaces and parentheses."""
    try:
        return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def parents() -> dict[int, int]:
    """{pid: parent pid} for every process."""
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))):
            found[int(entry.name)] = int(fields[1])
    return found


def tree(pid: int, parents: dict[int, int]) -> list[int]:
    """pid and all its descendants."""
    found = [pid]
    for candidate in found:
        found += [child for child, parent in parents.items() if parent == candidate]
    return found


def usage(roots: dict[str, int]) -> dict:
    """RSS and PSS in MiB per named root (with its children) and in total."""
    by_pid = parents()
    rows = {}
    for name, pid in roots.items():
        pids = [p for p in tree(pid, by_pid) if (PROC / str(p)).exists()]
        rss = sum(_status_kib(p, "VmRSS") for p in pids)
        pss = sum(_status_kib(p, "Pss", "smaps_rollup") for p in pids)
        rows[name] = {"processes": len(pids), "rss_mib": round(rss / 1024, 1), "pss_mib": round(pss / 1024, 1)}
    total_rss = sum(row["rss_mib"] for row in rows.values())
    total_pss = sum(row["pss_mib"] for row in rows.values())
    return {
        "processes": sum(row["processes"] for row in rows.values()),
        "rss_mib": round(total_rss, 1),
        "pss_mib": round(total_pss, 1),
        "by_process": rows,
    }


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes and their children so far."""
    by_pid = parents()
    ticks = 0
    for root in pids:
        for pid in tree(root, by_pid):
            fields = _stat_fields(pid)
            ticks += int(fields[11]) + int(fields[12]) if fields else 0
    return ticks / CLOCK_TICKS
