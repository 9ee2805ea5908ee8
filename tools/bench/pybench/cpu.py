"""CPU time per process over a phase of the bench: which process sets the local throughput floor.

Two snapshots of /proc (each process's user + system ticks, and the machine's idle ticks), taken
before and after a phase; the difference over the wall time says how much of one core each
process used on average, and how idle the machine was. A process near 100% of one core while the
machine has idle time is the floor: a single-threaded bottleneck, not a lack of cores.

Processes are named by what they are in the stack (DynamoDB Local, the harness, each function
binary), so the figure reads the same from run to run whatever the pids.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


@dataclass(frozen=True)
class Snapshot:
    # pid -> (name, CPU ticks so far)
    processes: dict[int, tuple[str, int]]
    busy: int
    idle: int


def name_of(command: str, argv: list[str], pid: int, own_pid: int) -> str:
    """What a process is, from its `comm` and arguments."""
    joined = " ".join(argv)
    if pid == own_pid:
        return "bench client"
    if command.startswith("kworker"):  # named after what they do at the moment
        return "kernel workers"
    if command == "java" and "DynamoDBLocal" in joined:
        return "DynamoDB Local"
    if command.startswith("python") or "python" in (argv[0] if argv else ""):
        if "tools.local.harness" in joined:
            return "harness (moto, gateway, pollers)"
        if "tools.local" in joined:
            return "stack supervisor (./dev up)"
        return f"python {Path(argv[1]).name if len(argv) > 1 else ''}".strip()
    return command


def _read(pid_dir: Path) -> tuple[str, list[str], int] | None:
    try:
        stat = (pid_dir / "stat").read_text()
        argv = [a for a in (pid_dir / "cmdline").read_bytes().decode(errors="replace").split("\0") if a]
    except OSError:  # the process ended meanwhile
        return None
    command = stat[stat.index("(") + 1:stat.rindex(")")]
    # After the command: state, ppid, ... utime is field 14 of stat, stime 15 (1-based).
    fields = stat[stat.rindex(")") + 2:].split()
    return command, argv, int(fields[11]) + int(fields[12])


def snapshot(own_pid: int | None = None) -> Snapshot:
    own = own_pid if own_pid is not None else os.getpid()
    processes: dict[int, tuple[str, int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        read = _read(entry)
        if read is None:
            continue
        command, argv, ticks = read
        pid = int(entry.name)
        processes[pid] = (name_of(command, argv, pid, own), ticks)
    cpu = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = cpu[3] + cpu[4]  # idle + iowait
    return Snapshot(processes=processes, busy=sum(cpu) - idle, idle=idle)


def usage(before: Snapshot, after: Snapshot, seconds: float, top: int = 8) -> dict[str, object]:
    """Share of one core per kind of process (the `top` busiest, summed by name) and the
    machine's idle share (of all its cores) between two snapshots `seconds` apart."""
    by_name: dict[str, float] = {}
    for pid, (name, ticks) in after.processes.items():
        # A process that started during the phase counts from zero.
        earlier = before.processes.get(pid)
        used = ticks - (earlier[1] if earlier and earlier[0] == name else 0)
        if used > 0:
            by_name[name] = by_name.get(name, 0.0) + used / TICKS_PER_SECOND / seconds
    busiest = sorted(by_name.items(), key=lambda kv: kv[1], reverse=True)[:top]
    busy, idle = after.busy - before.busy, after.idle - before.idle
    return {
        "share_of_one_core": {name: round(share, 3) for name, share in busiest},
        "machine_idle": round(idle / (busy + idle), 3) if busy + idle else None,
    }
