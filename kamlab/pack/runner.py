"""Build the monthly pack: one scorecard per customer, in parallel on warm kernels.

``build_pack`` validates everything it can before a kernel starts (month, data source,
customers, file-name slugs), computes the month's shared analytics once (cached on disk),
then runs ``notebooks/scorecard.ipynb`` per customer with real papermill on pre-warmed
kernels (:mod:`kamlab.pack.kernels`), in worker processes or on a Dask cluster. Each
customer's outcome — ok, failed (error and cell) or timed out — is recorded; a failure
never stops the others. Outputs are written atomically; ``retry_failed`` reruns only the
customers that did not succeed last time.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

__all__ = ["Job", "JobResult", "PackError", "PackResult", "execute_job", "run_jobs"]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


class PackError(ValueError):
    """The pack cannot start: bad month, unknown customers, missing data, clashing slugs."""


@dataclass(frozen=True)
class Job:
    """One notebook to run: a customer's scorecard or the portfolio page."""

    key: str  # customer_id, or "portfolio"
    kind: str  # "scorecard" | "portfolio"
    name: str
    slug: str
    notebook: str
    parameters: dict
    ipynb: str
    html: str
    title: str
    footer: str = ""


@dataclass
class JobResult:
    """What happened to one job; ``status`` is ok | failed | timeout."""

    key: str
    kind: str
    name: str
    slug: str
    status: str
    seconds: float
    error: str = ""
    cell: int | None = None
    html_kb: float = 0.0
    worker: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class PackResult:
    """The whole pack: where it is and each job's result."""

    directory: Path
    results: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if not r.ok]


def execute_job(job: Job, kernel, *, timeout: float | None) -> JobResult:
    """Run `job` on the warm `kernel` through papermill; write its .ipynb and .html atomically.

    Never raises for a notebook problem: a cell error, a timeout (which papermill reports
    without an error banner, and marks later cells "completed"), a dead kernel or an
    unfinished notebook all come back as a failed :class:`JobResult` with the error and the
    cell, the partial notebook kept. The kernel is reset afterwards, or restarted after a
    timeout or a crash.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from kamlab.pack.html import atomic_write, external_urls, notebook_html
    from kamlab.pack.kernels import ENGINE_NAME

    started = time.perf_counter()
    ipynb = Path(job.ipynb)
    ipynb.parent.mkdir(parents=True, exist_ok=True)
    tmp = ipynb.with_name(f".tmp-{ipynb.name}")
    status, error, cell, restart = "ok", "", None, False
    try:
        pm.execute_notebook(
            job.notebook,
            str(tmp),
            parameters=job.parameters,
            engine_name=ENGINE_NAME,
            warm_kernel=kernel,
            kernel_name=kernel.kernel_name,
            execution_timeout=timeout,
            progress_bar=False,
            request_save_on_cell_execute=False,
            partial_path=str(tmp),
        )
    except PapermillExecutionError as err:
        status, error, cell = "failed", f"{err.ename}: {err.evalue}", err.cell_index
    except TimeoutError as err:  # nbclient's CellTimeoutError
        status, error, restart = (
            "timeout",
            f"timed out after {timeout} s per cell: {err}".strip(),
            True,
        )
    except Exception as err:  # a dead kernel, a broken notebook file, ...
        status, error, restart = "failed", f"{type(err).__name__}: {err}", True
    nb = nbformat.read(tmp, as_version=4) if tmp.exists() else None
    if nb is not None:
        unfinished = _unfinished_cell(nb)
        if unfinished is not None:
            cell = cell if cell is not None else unfinished
            if status == "ok":
                status, error = (
                    "failed",
                    f"notebook stopped before cell {unfinished} without an error",
                )
        html = notebook_html(nb, title=job.title, footer=job.footer)
        urls = external_urls(html)
        if urls and status == "ok":
            status, error = "failed", f"page would load external URLs: {urls[:3]}"
        atomic_write(Path(job.html), html)
        os.replace(tmp, ipynb)
        html_kb = len(html.encode("utf-8")) / 1024
    else:
        html_kb = 0.0
        error = error or "papermill wrote no notebook"
    if restart or not kernel.is_alive():
        kernel.restart()
    else:
        kernel.reset()
    return JobResult(
        key=job.key,
        kind=job.kind,
        name=job.name,
        slug=job.slug,
        status=status,
        seconds=round(time.perf_counter() - started, 3),
        error=error,
        cell=cell,
        html_kb=round(html_kb, 1),
        worker=str(os.getpid()),
    )


def _unfinished_cell(nb: nbformat.NotebookNode) -> int | None:
    """Index of the cell that was running when execution stopped, or None if all code ran."""
    last_run = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if cell.get("execution_count") is None:
            return last_run if last_run is not None else index
        last_run = index
    return None


# -- process pool of warm kernels -------------------------------------------------------------
def _worker(tasks, results, preload: str, timeout: float | None, cwd: str) -> None:
    from kamlab.pack.kernels import WarmKernel

    try:
        kernel = WarmKernel(cwd=cwd).start(preload)
    except Exception as err:  # report and let the other workers carry on
        results.put(("dead", f"kernel start failed: {type(err).__name__}: {err}"))
        return
    try:
        while (job := tasks.get()) is not None:
            results.put(("start", job.key))
            results.put(("done", execute_job(job, kernel, timeout=timeout)))
    finally:
        kernel.shutdown()


def run_jobs(
    jobs: Sequence[Job],
    *,
    workers: int,
    preload: str,
    timeout: float | None,
    cwd: str,
    scheduler: str | None = None,
    on_done: Callable[[JobResult], None] = lambda r: None,
) -> list[JobResult]:
    """Run `jobs` on `workers` warm kernels (processes) or on the Dask cluster at `scheduler`."""
    if not jobs:
        return []
    if scheduler is not None:
        return _run_dask(
            jobs, scheduler=scheduler, preload=preload, timeout=timeout, cwd=cwd, on_done=on_done
        )
    ctx = mp.get_context("spawn")
    tasks, results = ctx.Queue(), ctx.Queue()
    n = max(1, min(workers, len(jobs)))
    for job in jobs:
        tasks.put(job)
    for _ in range(n):
        tasks.put(None)
    procs = [
        ctx.Process(target=_worker, args=(tasks, results, preload, timeout, cwd), daemon=True)
        for _ in range(n)
    ]
    for p in procs:
        p.start()
    done: dict[str, JobResult] = {}
    running: dict[str, float] = {}
    dead = 0
    try:
        while len(done) < len(jobs):
            try:
                kind, payload = results.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    break
                continue
            if kind == "start":
                running[payload] = time.perf_counter()
            elif kind == "done":
                running.pop(payload.key, None)
                done[payload.key] = payload
                on_done(payload)
            elif kind == "dead":
                dead += 1
                if dead == n:
                    break
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    for job in jobs:  # whatever no worker could finish
        if job.key not in done:
            r = JobResult(
                job.key,
                job.kind,
                job.name,
                job.slug,
                "failed",
                0.0,
                error="no worker finished this notebook (worker or kernel died)",
            )
            done[job.key] = r
            on_done(r)
    return [done[j.key] for j in jobs]


# -- Dask ---------------------------------------------------------------------------------------
def _run_dask(jobs, *, scheduler, preload, timeout, cwd, on_done) -> list[JobResult]:
    from distributed import Client, as_completed

    from kamlab.pack.dask import PLUGIN, WarmKernelPlugin, execute_on_worker

    with Client(scheduler) as client:
        client.register_plugin(WarmKernelPlugin(preload, cwd), name=PLUGIN)
        try:
            futures = {
                client.submit(
                    execute_on_worker,
                    job,
                    timeout,
                    key=f"kamlab-{job.slug}-{time.time_ns()}",
                    pure=False,
                ): job
                for job in jobs
            }
            done: dict[str, JobResult] = {}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except Exception as err:  # the worker itself died
                    result = JobResult(
                        job.key,
                        job.kind,
                        job.name,
                        job.slug,
                        "failed",
                        0.0,
                        error=f"dask task failed: {type(err).__name__}: {err}",
                    )
                done[job.key] = result
                on_done(result)
        finally:
            client.unregister_worker_plugin(PLUGIN)
    return [done[j.key] for j in jobs]


def write_run_log(directory: Path, results: Iterable[JobResult], meta: dict) -> None:
    """``run-log.json`` (read by retry) and a readable ``run.log``, both written atomically."""
    from kamlab.pack.html import atomic_write

    results = list(results)
    atomic_write(
        directory / "run-log.json",
        json.dumps({**meta, "results": [asdict(r) for r in results]}, indent=1, default=str),
    )
    lines = [
        f"kamlab pack {meta.get('month')}  kamlab {meta.get('kamlab_version')}  analytics {meta.get('analytics_key')}"
    ]
    lines += [
        f"{r.status:8} {r.seconds:7.2f} s  {r.kind:9} {r.key}  {r.error}".rstrip() for r in results
    ]
    atomic_write(directory / "run.log", "\n".join(lines) + "\n")
