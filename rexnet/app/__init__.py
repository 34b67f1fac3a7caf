"""The application layer: RexNet's use cases over the ledger, with typed results.

Each use case takes a recorder (:class:`rexnet.store.Recorder` / ``LedgerReader``) and plain
arguments, and returns a dataclass of :mod:`rexnet.app.results`; the CLI renders those results
and the notebook facade (:class:`rexnet.Ledger`) hands them out. No printing, no click here.
The entry points are in :mod:`rexnet.app.use_cases`; the work is done by the modules beside it:
:mod:`~rexnet.app.simulate` (``run``), :mod:`~rexnet.app.operations` (``replay``, ``verify``,
``fork``, ``resume``), :mod:`~rexnet.app.audit`, :mod:`~rexnet.app.digest` and
:mod:`~rexnet.app.golden` (the pinned replays), over the projections of :mod:`rexnet.replay`.
:mod:`~rexnet.app.facade` is the notebook facade :class:`rexnet.Ledger`.
"""
