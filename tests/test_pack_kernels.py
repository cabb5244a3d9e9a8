"""Warm kernels give the same notebooks as fresh ones, through real papermill."""

import papermill as pm
import pytest
from pack_support import MONTH, build_demo_database, outputs, write_notebook

from kamlab.pack.kernels import ENGINE_NAME, KernelError, WarmKernel
from kamlab.pack.runner import NOTEBOOKS


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return build_demo_database(tmp_path_factory.mktemp("kernels"))


@pytest.fixture(scope="module")
def kernel():
    with WarmKernel() as k:
        yield k.start()


def _params(database, cache, customer):
    return {
        "customer_id": customer,
        "month": MONTH,
        "source": str(database),
        "options": {"cache_dir": str(cache)},
    }


def test_a_warm_kernel_gives_the_same_scorecard_as_a_fresh_kernel(kernel, database, tmp_path):
    import kamlab.chain as chain

    first, second = chain.load_analytics(database, MONTH, cache_dir=tmp_path).customer_ids()[:2]
    notebook = NOTEBOOKS / "scorecard.ipynb"
    warm = []
    for customer in (first, second):
        warm.append(
            pm.execute_notebook(
                notebook,
                tmp_path / f"warm-{customer}.ipynb",
                parameters=_params(database, tmp_path, customer),
                engine_name=ENGINE_NAME,
                warm_kernel=kernel,
                progress_bar=False,
            )
        )
        kernel.reset()
    fresh = pm.execute_notebook(
        notebook,
        tmp_path / "fresh.ipynb",
        parameters=_params(database, tmp_path, second),
        progress_bar=False,
    )
    assert outputs(warm[1]) == outputs(fresh)
    assert outputs(warm[0]) != outputs(fresh)  # the comparison can tell customers apart
    assert [c for c, _ in outputs(fresh)] == list(range(1, len(outputs(fresh)) + 1))


def test_a_reset_leaves_nothing_of_the_previous_notebook(kernel, tmp_path):
    leaky = write_notebook(tmp_path / "leaky.ipynb", "leak = 42\nimport json")
    probe = write_notebook(
        tmp_path / "probe.ipynb",
        "print(sorted(k for k in globals() if not k.startswith('_')))",
    )
    pm.execute_notebook(
        leaky,
        tmp_path / "o1.ipynb",
        engine_name=ENGINE_NAME,
        warm_kernel=kernel,
        progress_bar=False,
    )
    kernel.reset()
    warm = pm.execute_notebook(
        probe,
        tmp_path / "o2.ipynb",
        engine_name=ENGINE_NAME,
        warm_kernel=kernel,
        progress_bar=False,
    )
    kernel.reset()
    fresh = pm.execute_notebook(probe, tmp_path / "o3.ipynb", progress_bar=False)
    assert outputs(warm) == outputs(fresh)
    assert "leak" not in str(outputs(warm))


def test_warm_up_errors_are_reported_not_swallowed(kernel):
    with pytest.raises(KernelError, match="ZeroDivisionError"):
        kernel.run("1 / 0")
