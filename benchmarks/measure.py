"""Time and peak memory of one ``rexnet`` command, run in a fresh interpreter.

Shared by the benchmarks and the memory tests (``tests/integration/test_ingest_memory.py``):
``run_measured(["--db", URL, "ingest", PATH])`` runs the CLI in a subprocess, which reports its
own peak resident memory (``VmHWM``, kB; its children's too) and CPU time as it ends, so
nothing of the caller's memory is counted and each command is measured alone. Every benchmark's
measuring child reads its peak with :data:`OWN_PEAK`. CPU time
is the steadier figure on a machine shared with other work (wall time then mostly measures the
others).
"""

from __future__ import annotations

import inspect
import resource
import subprocess
import sys
import time
from typing import NamedTuple


def own_peak_kb() -> int:
    """This process's own peak resident memory in kB.

    VmHWM: the peak of this process's own memory since its exec. ru_maxrss of RUSAGE_SELF would
    carry the peak of the process that forked this one (Linux keeps it across execve): a child of
    a large pytest process would report the parent's size.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


#: Source of ``_own_peak_kb()`` (:func:`own_peak_kb`) for a measuring child process run with
#: ``python -c`` (also used by the memory tests).
OWN_PEAK = "import resource\n" + inspect.getsource(own_peak_kb) + "_own_peak_kb = own_peak_kb\n"

#: The child: run the CLI, then report its own peak memory on stderr.
_CHILD = (
    OWN_PEAK
    + """
import sys
from rexnet.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="rexnet", standalone_mode=False)
finally:
    # a child (replay checks the chain in a forked process) counts as part of the command
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    print("MAXRSS", max(_own_peak_kb(), kids.ru_maxrss), cpu, file=sys.stderr)
"""
)


class Measured(NamedTuple):
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    cpu_seconds: float
    peak_mb: float


def run_measured(args: list[str]) -> Measured:
    """``rexnet ARGS`` in a subprocess: exit code, output, wall seconds and peak resident MB."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    report = next((line.split() for line in done.stderr.splitlines() if line.startswith("MAXRSS")), None)
    kb, cpu = (int(report[1]), float(report[2])) if report else (0, 0.0)
    return Measured(done.returncode, done.stdout, done.stderr, seconds, cpu, kb / 1024)
