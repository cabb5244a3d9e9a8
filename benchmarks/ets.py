"""kamlab's ETS kernel beside statsforecast AutoETS on the VALIDATION windows (no test values).

Each training series of the set is shortened by its horizon h; both fit on the rest and are
scored on those last h training values (the test values are not read). kamlab's ETS is
:func:`kamlab.forecast.ets.ets_forecasts` at one origin: the AICc choice among all its models,
among those without an undamped trend (``damped_``, the median's member) and among the seasonal
damped ones (``seasonal_``); with ``--per-model`` also model by model beside AutoETS fitted
with the same model. AutoETS is cached under benchmarks/.cache/ (see peers.py).

    PYTHONPATH=. python benchmarks/ets.py --set m3|m1-monthly|m1-quarterly [--per-model ANN,MNM]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from mcomp import load
from peers import cpu_seconds, peer_forecasts

from kamlab.accuracy import mase, smape
from kamlab.forecast.ets import MODELS, ets_forecasts

SETS = {
    "m3": ("M3", "monthly"),
    "m1-monthly": ("M1", "monthly"),
    "m1-quarterly": ("M1", "quarterly"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=tuple(SETS), default="m3")
    parser.add_argument("--per-model", default="", help="comma-separated models, e.g. ANN,MAdM")
    args = parser.parse_args()
    competition, subset = SETS[args.set]
    names, train, test, m = load(competition, subset)
    h = test.shape[1]
    # AutoETS needs a few seasons: series with fewer than 3m + 2 values left are not scored
    keep = [i for i, x in enumerate(train) if len(x) - h >= 3 * m + 2]
    names = [names[i] for i in keep]
    actual = np.array([train[i][-h:] for i in keep])
    hist = [train[i][:-h] for i in keep]
    width = max(len(x) for x in hist)
    Y = np.full((len(hist), width), np.nan)
    for i, x in enumerate(hist):
        Y[i, width - len(x) :] = x

    def score(fc: np.ndarray) -> dict[str, float]:
        fc = np.maximum(np.nan_to_num(fc), 0.0)
        return {
            "sMAPE": float(np.mean([smape(a, f) for a, f in zip(actual, fc, strict=True)])),
            "MASE": float(
                np.mean(
                    [
                        mase(a, f, y_train=x, season_length=m)
                        for a, f, x in zip(actual, fc, hist, strict=True)
                    ]
                )
            ),
        }

    c0 = cpu_seconds()
    r = ets_forecasts(Y, h, [width], m)
    cpu = cpu_seconds() - c0
    rows = {
        "kamlab ETS, AICc among all": score(r["mean"][0]),
        "kamlab ETS, AICc without undamped trends": score(r["damped_mean"][0]),
        "kamlab ETS, AICc among seasonal damped": score(r["seasonal_mean"][0]),
    }
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(names, [len(x) for x in hist]),
            "ds": np.concatenate([np.arange(len(x)) for x in hist]),
            "y": np.concatenate(hist),
        }
    )
    from statsforecast.models import AutoETS

    key = f"{args.set}-validation"
    peer = peer_forecasts(key, df, AutoETS(season_length=m), h, freq=1)
    rows["statsforecast AutoETS"] = score(peer["mean"])
    for spec in filter(None, args.per_model.split(",")):
        model = AutoETS(season_length=m, model=spec[0] + spec[1] + spec[-1], damped="d" in spec)
        model.alias = f"AutoETS-{spec}"
        ours = r["forecasts"][0, :, MODELS.index(spec)]
        fitted = np.isfinite(ours).all(axis=1)
        theirs = peer_forecasts(key, df, model, h, freq=1)["mean"]
        rows[f"kamlab {spec} (where it fits)"] = score(np.where(fitted[:, None], ours, np.nan))
        rows[f"statsforecast {spec} (same series)"] = score(
            np.where(fitted[:, None], theirs, np.nan)
        )
    print(
        f"{competition} {subset}: {len(hist)} series with >= {3 * m + 2} values before the "
        f"last {h}, scored on those {h} (VALIDATION); kamlab ETS {1000 * cpu / len(hist):.2f} "
        f"CPU ms/series, AutoETS {1000 * peer['cpu'] / len(hist):.1f}; {time.ctime()}"
    )
    print(pd.DataFrame(rows).T.to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
