"""The application layer: RexNet's use cases over the ledger, with typed results.

Each use case takes a recorder (:class:`rexnet.store.Recorder` / ``LedgerReader``) and plain
arguments, and returns a dataclass of :mod:`rexnet.app.results`; the CLI renders those results
and the notebook facade (:class:`rexnet.Ledger`) hands them out. No printing, no click here.
The use cases are in :mod:`rexnet.app.use_cases`; most still delegate to the modules of
:mod:`rexnet.replay` that hold their logic (moving that logic here is listed in
docs/architecture.md).
"""
