"""Small helpers of the explorer's pages: exact display values and the redaction of server secrets."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa


def plain(value: Any) -> Any:
    """A value a page or a JSON answer can show: a Decimal as its exact text, never a float."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Fraction):
        return plain(Decimal(value.numerator) / Decimal(value.denominator))
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (_dt.date, _dt.time, _dt.timedelta)):
        return str(value)
    return value


def money(spec: Any, units: int) -> str:
    """Money units as currency, exact to 10 decimals (as the SQL views show money; the CLI's
    6-decimal display would hide the half-units of a VWAP penalty)."""
    exact = units * spec.money_scale
    value = Decimal(exact.numerator) / Decimal(exact.denominator)
    return plain(value.quantize(Decimal("1e-10")))


class Redactor:
    """Removes what a page must never show: the database password and the server's ledger path.

    Every message that leaves the server (errors, SQL console cells) goes through :meth:`__call__`;
    the pages themselves only ever name the ledger as "sqlite ledger" / "postgresql ledger".
    """

    def __init__(self, url: sa.URL, *more: sa.URL) -> None:
        pairs: dict[str, str] = {}
        for each in (url, *more):
            pairs[each.render_as_string(hide_password=False)] = "<ledger>"
            pairs[each.set(drivername="postgresql").render_as_string(hide_password=False)] = "<ledger>"
            if each.password:
                pairs[str(each.password)] = "***"
            if each.get_backend_name() == "sqlite" and each.database:
                pairs[str(each.database)] = "<ledger>"
        # longest first, so a URL is replaced whole before the path or password inside it
        self._pairs = sorted(((s, r) for s, r in pairs.items() if s), key=lambda p: len(p[0]), reverse=True)
        self.label = f"{url.get_backend_name()} ledger"

    def __call__(self, text: Any) -> Any:
        if not isinstance(text, str):
            return text
        for secret, replacement in self._pairs:
            if secret in text:
                text = text.replace(secret, replacement)
        return text
