"""kamlab.forecast on the M1 competition's monthly (617, h 18) or quarterly (203, h 8) series.

Run from the repository root (peers are fitted once, then read from benchmarks/.cache/):

    PYTHONPATH=. python benchmarks/m1.py --freq monthly|quarterly [--arima N] [--no-peers]

What is measured and how: see benchmarks/mcomp.py. AutoARIMA runs on the first 300 series by
name on M1 monthly and on all 203 quarterly series unless ``--arima`` says otherwise.
"""

from __future__ import annotations

import argparse
import sys

from mcomp import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--freq", choices=("monthly", "quarterly"), default="monthly")
    known, rest = parser.parse_known_args(sys.argv[1:])
    main("M1", known.freq, argv=rest)
