"""``python -m rexnet.cli``: the same entry point as the ``rexnet`` console script."""

from rexnet.cli import main

main()
