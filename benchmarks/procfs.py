"""What Linux's /proc says of a process tree: its descendants, and each process's CPU seconds so far."""

import os
from pathlib import Path


def children(pid: int, *, recursive: bool = True) -> list[int]:
    """Every descendant of a process (a server's: its worker processes), or only its own children."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out + [g for c in out for g in children(c)] if recursive else out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 once it has exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
