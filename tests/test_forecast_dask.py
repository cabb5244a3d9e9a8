"""kamlab.forecast on a Dask cluster gives the same numbers as in-process."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlab.forecast import forecast


def test_a_dask_local_cluster_gives_the_same_forecast_as_one_process():
    from distributed import Client, LocalCluster

    rng = np.random.default_rng(4)
    d = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": "C",
                    "material_id": f"M{i}",
                    "period": pd.period_range("2023-01", periods=26, freq="M"),
                    "quantity": rng.poisson(rng.uniform(0.3, 30), 26).astype(float),
                }
            )
            for i in range(30)
        ],
        ignore_index=True,
    )
    local = forecast(d, 3, n_jobs=1)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        by_client = forecast(d, 3, scheduler=client, chunk_size=8)
        by_address = forecast(d, 3, scheduler=cluster.scheduler_address, chunk_size=8)
    pd.testing.assert_frame_equal(local, by_client)
    pd.testing.assert_frame_equal(local, by_address)
