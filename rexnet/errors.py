"""The RexNet error tree.

One root, :class:`RexnetError`, and a family per package. A business rejection (an order the
market refuses) is never an exception: it is an ``order_rejected`` event. Exceptions here are for
bad user input (the CLI turns them into a one-line message and exit code 2), for storage problems
(driver errors are translated into these so callers never see a DB-API class), and for failed
checks (exit code 1).
"""

from __future__ import annotations


class RexnetError(Exception):
    """Root of every error RexNet raises on purpose."""


class InputError(RexnetError):
    """Bad user input: a malformed file, argument, URL or scenario. CLI exit code 2."""


class LineError(InputError):
    """A malformed line of an input file; the message names the line number."""

    def __init__(self, path: str, line: int, what: str) -> None:
        super().__init__(f"{path}, line {line}: {what}")
        self.path = path
        self.line = line
        self.what = what


class StoreError(RexnetError):
    """A problem with the event store (database)."""


class DatabaseUnavailable(StoreError, InputError):
    """The database URL is malformed or the server cannot be reached."""


class SchemaTooNew(StoreError, InputError):
    """The database was migrated by a newer RexNet than this one."""


class RunNotFound(StoreError, InputError):
    """No run has that id or name (or the name is ambiguous)."""


class ConcurrencyError(StoreError):
    """Another writer appended to the same run first: (run_id, seq) already taken."""


class IntegrityError(StoreError):
    """The database refused a write that would break the ledger's integrity."""


class CheckFailed(RexnetError):
    """An audit or verification found a discrepancy. CLI exit code 1."""


class LedgerDamaged(StoreError, CheckFailed):
    """The ledger itself is damaged: a table is missing, a page is corrupt. CLI exit code 1.

    Not bad input (the command and its arguments were fine): the check of the ledger failed.
    """


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for a message that quotes what a user gave.

    Messages are one short line whatever the input: a 20,000-character run reference or URL is
    quoted by its start, not echoed whole.
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
