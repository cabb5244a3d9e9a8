"""``python -m kamlab`` runs the ``kamlab`` command."""

import sys

from kamlab.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
