"""Projections rebuilt from the ledger: as-of market state, accounts, audit, verify/fork/resume."""
