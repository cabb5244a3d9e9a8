"""kamlab.forecast on the M3 competition's 1,428 monthly series (h 18) beside statsforecast.

Run from the repository root (peers are fitted once, then read from benchmarks/.cache/):

    PYTHONPATH=. python benchmarks/m3.py [--arima 300] [--no-peers] [--refresh]

What is measured and how: see benchmarks/mcomp.py. AutoARIMA (and the mean of AutoETS +
AutoTheta + AutoARIMA) runs on the first 300 series by name unless ``--arima`` says otherwise;
kamlab's figures on the same subset are printed beside it.
"""

from __future__ import annotations

from mcomp import main

if __name__ == "__main__":
    main("M3", "monthly")
