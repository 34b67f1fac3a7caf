"""The LOB-3D exchange: per-unit order books, continuous matching, call auctions, gate closure.

Pure and event-sourced (see :mod:`rexnet.exchange.exchange`); imports only the domain.
"""

from rexnet.exchange.decision import AUCTION_PHASE, ExchangeError
from rexnet.exchange.exchange import Exchange
from rexnet.exchange.state import ExchangeState, LiveOrder

__all__ = ["AUCTION_PHASE", "Exchange", "ExchangeError", "ExchangeState", "LiveOrder"]
