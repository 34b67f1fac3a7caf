"""Projections rebuilt from the ledger and deterministic re-execution: the folds the use cases use.

As-of market state and accounts (:mod:`.projection`, :mod:`.accounts`, :mod:`.snapshot`,
:mod:`.persisted`), run statistics, a run's stitched history (:mod:`.history`), the recorder of
live runs (:mod:`.recording`) and re-execution from a run's record (:mod:`.rerun`). The use cases
over them (replay, verify, fork, resume, audit, digest) are in :mod:`rexnet.app`.
"""
