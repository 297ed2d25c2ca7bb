"""Cap a process tree to a fixed CPU share with a cgroup CPU quota (v2 cpu.max, else v1 cfs_quota_us)."""

import contextlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000
PREFIX = "scaling-bench-"


@dataclass
class CpuCap:
    """One cgroup whose processes share `quota` of one CPU; join() runs in the child before exec."""

    path: Path
    procs_file: Path

    def join(self) -> None:
        self.procs_file.write_text(str(os.getpid()))

    def add(self, pid: int) -> None:
        """Move a running process into the cgroup (its threads go with it; children it forks later start in it)."""
        with contextlib.suppress(ProcessLookupError):
            self.procs_file.write_text(str(pid))

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.rmdir()


def _v2_root() -> Path | None:
    controllers = CGROUP_ROOT / "cgroup.controllers"
    if controllers.exists() and "cpu" in controllers.read_text().split():
        return CGROUP_ROOT
    return None


def _v1_root() -> Path | None:
    for name in ("cpu", "cpu,cpuacct"):
        candidate = CGROUP_ROOT / name
        if (candidate / "cpu.cfs_quota_us").exists():
            return candidate
    return None


def _create_v2(root: Path, name: str, quota_us: int) -> CpuCap:
    subtree = root / "cgroup.subtree_control"
    if "cpu" not in subtree.read_text().split():
        subtree.write_text("+cpu")
    path = root / name
    path.mkdir(exist_ok=True)
    (path / "cpu.max").write_text(f"{quota_us} {PERIOD_US}")
    return CpuCap(path, path / "cgroup.procs")


def _create_v1(root: Path, name: str, quota_us: int) -> CpuCap:
    path = root / name
    path.mkdir(exist_ok=True)
    (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
    (path / "cpu.cfs_quota_us").write_text(str(quota_us))
    return CpuCap(path, path / "cgroup.procs")


def create(name: str, share: float) -> CpuCap:
    """A cgroup capped to `share` of one CPU; raises OSError when this machine does not allow it."""
    quota_us = int(PERIOD_US * share)
    if (root := _v2_root()) is not None:
        return _create_v2(root, PREFIX + name, quota_us)
    if (root := _v1_root()) is not None:
        return _create_v1(root, PREFIX + name, quota_us)
    raise OSError("no cgroup CPU controller is mounted under /sys/fs/cgroup")


def probe(share: float) -> tuple[str | None, str]:
    """('v2' | 'v1', how) when CPU caps work here, else (None, why not)."""
    try:
        cap = create("probe", share)
        try:
            subprocess.run(["true"], preexec_fn=cap.join, check=True)
        finally:
            cap.remove()
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"cgroup CPU quota unavailable ({exc}); replicas run uncapped"
    version = "v2" if _v2_root() else "v1"
    knob = "cpu.max" if version == "v2" else "cpu.cfs_quota_us"
    return version, f"cgroup {version} {knob}: each replica capped to {share:.0%} of one CPU"
