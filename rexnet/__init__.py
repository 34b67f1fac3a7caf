"""RexNet: a reservation exchange for prosumers, an event-sourced market ledger and its simulator."""

__version__ = "0.1.0"
