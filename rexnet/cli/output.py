"""Shared output options and printers for the CLI (one decorator, one printer per format)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import click


def format_option(
    *choices: str, default: str = "table"
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--format`` option every printing command takes."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=default,
        show_default=True,
        help="Output format (json/jsonl for scripts).",
    )


#: ``--key FILE`` of ``digest`` and ``audit --digest``: the digest key, kept outside the ledger
key_option = click.option(
    "--key",
    "key_file",
    envvar="REXNET_DIGEST_KEY",
    type=click.Path(dir_okay=False),
    default=None,
    help="Key file of the digest (hex, made by `rexnet digest --new-key`); env REXNET_DIGEST_KEY.",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        # exact decimals print as JSON numbers, never via float
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=_jsonable, ensure_ascii=False)


def print_json(obj: Any) -> None:
    click.echo(dumps(obj))


def escape(text: str) -> str:
    """``text`` with every non-printable character (terminal escapes, other controls, bidi
    overrides, ...) written as a Python escape, so stored strings cannot drive the terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


#: A run of non-space characters longer than this in an error message is user input echoed back
#: (a 20,000-character name, path or option value): it is quoted by its first characters.
LONGEST_WORD = 200
_LONG_WORD = re.compile(rf"\S{{{LONGEST_WORD + 1},}}")


def clip_words(text: str, keep: int = 60) -> str:
    """``text`` with every word longer than :data:`LONGEST_WORD` cut to its first ``keep``
    characters and ``...``: an error message stays a short line whatever input it quotes, and
    keeps its reason (which follows the quoted value)."""
    return _LONG_WORD.sub(lambda m: m.group(0)[:keep] + "...", text)


def _raw(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _cell(value: Any) -> str:
    """A table cell: terminal-safe (CSV and JSON keep the exact text; they are for scripts)."""
    return escape(_raw(value))


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Aligned plain-text table; numbers right-aligned."""
    if not rows:
        click.echo("(no rows)")
        return
    cols = list(columns or rows[0].keys())
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    heads = [escape(str(c)) for c in cols]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(heads)]
    numeric = [
        all(isinstance(r.get(c), (int, float, Decimal)) or r.get(c) is None for r in rows) for c in cols
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    click.echo(line(heads))
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo(line(row))


def print_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    buf = io.StringIO()
    cols = list(columns or (rows[0].keys() if rows else []))
    writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _raw(row.get(c)) for c in cols})
    click.echo(buf.getvalue(), nl=False)


def print_rows(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> None:
    if fmt == "json":
        print_json(list(rows))
    elif fmt == "jsonl":
        for row in rows:
            click.echo(dumps(row))
    elif fmt == "csv":
        print_csv(rows, columns)
    else:
        print_table(rows, columns)
