"""`python -m flows.cli`: the `deskwatch` command without the installed script."""

import sys

from flows.cli import main

if __name__ == "__main__":  # a process pool's workers import this module again: run once
    sys.exit(main())
