"""Top-level shim so ``python cli.py ...`` works from a checkout; the CLI lives in :mod:`rexnet.cli`."""

from rexnet.cli import main

if __name__ == "__main__":
    main()
