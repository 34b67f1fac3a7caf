"""The LOB-3D exchange: per-unit order books, continuous matching, call auctions, gate closure.

Pure and event-sourced (see :mod:`rexnet.exchange.exchange`); imports only the domain.
"""

from rexnet._compiled import is_compiled
from rexnet.domain.market import MarketSpec
from rexnet.exchange import _fast
from rexnet.exchange.decision import AUCTION_PHASE, ExchangeError
from rexnet.exchange.exchange import Exchange
from rexnet.exchange.state import ExchangeState, LiveOrder

#: The exchange class runs use: the mypyc-shaped :class:`~rexnet.exchange._fast.FastExchange` when
#: it is compiled, else the plain reference :class:`Exchange` (both give the same events).
EXCHANGE_CLASS: type[Exchange] = _fast.FastExchange if is_compiled(_fast) else Exchange


def new_exchange(spec: MarketSpec) -> Exchange:
    """A new exchange of the build's class (:data:`EXCHANGE_CLASS`)."""
    return EXCHANGE_CLASS(spec)


__all__ = [
    "AUCTION_PHASE",
    "EXCHANGE_CLASS",
    "Exchange",
    "ExchangeError",
    "ExchangeState",
    "LiveOrder",
    "new_exchange",
]
