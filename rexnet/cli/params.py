"""Parameter types of the command line: every number and name a user types is checked here.

click's ``float`` takes ``nan`` and ``inf`` and its ``int`` any size; these types refuse both with
click's usage error (exit 2, the option named) before a command opens the ledger.
"""

from __future__ import annotations

import math
from typing import Any

import click

from rexnet.domain.limits import INT64_MAX, MAX_TIME_S, MAX_UNIT_INDEX, run_name_problem


class SimTime(click.ParamType):
    """Simulated seconds: a finite number within +-``MAX_TIME_S`` (the command checks the sign)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            out = value
        else:
            try:
                out = float(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(out):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if abs(out) > MAX_TIME_S:
            self.fail(f"{value!r} is beyond the simulated time limit ({MAX_TIME_S} s)", param, ctx)
        return out


class RunName(click.ParamType):
    """A new run's name: a short printable token that does not look like a run id."""

    name = "name"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        problem = run_name_problem(text)
        if problem is not None:
            self.fail(f"the name {problem}", param, ctx)
        return text


SIM_TIME = SimTime()
RUN_NAME = RunName()
#: a seq as typed (negative and too-large seqs get the command's own message)
SEQ = click.IntRange(-INT64_MAX - 1, INT64_MAX)
UNIT = click.IntRange(-MAX_UNIT_INDEX, MAX_UNIT_INDEX)
SEED = click.IntRange(0, INT64_MAX)
UNITS = click.IntRange(1, MAX_UNIT_INDEX)
