"""Build the monthly pack: one scorecard per customer, in parallel on warm kernels.

``build_pack`` validates everything it can before a kernel starts (month, data source,
customers, file-name slugs), computes the month's shared analytics once (cached on disk),
then runs ``kamlab/notebooks/scorecard.ipynb`` per customer with real papermill on pre-warmed
kernels (:mod:`kamlab.pack.kernels`), in worker processes or on a Dask cluster. Each
customer's outcome — ok, failed (error and cell) or timed out — is recorded; a failure
never stops the others. Outputs are written atomically; ``retry_failed`` reruns only the
customers that did not succeed last time.

Stopping a pack (SIGTERM, or Ctrl-C/SIGINT) stops everything within seconds: the workers
ignore SIGINT and leave it to the pack process, which terminates them; a terminated worker
kills its kernel's process group first. A worker whose pack process died (SIGKILL) notices
within a second and does the same, and a kernel whose worker died exits by itself
(ipykernel's parent poller). :func:`run_jobs` then raises :class:`PackInterrupted` carrying
every job's result so far, the unfinished ones ``not run``, for the run log that
``--retry-failed`` reads.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import re
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from kamlab.i18n.language import Language, language, speaking

__all__ = [
    "Job",
    "JobResult",
    "PackError",
    "PackInterrupted",
    "PackResult",
    "check_scheduler",
    "execute_job",
    "run_jobs",
]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


class PackError(ValueError):
    """The pack cannot start: bad month, unknown customers, missing data, clashing slugs."""


class PackInterrupted(BaseException):
    """The pack was stopped by `signum` (SIGINT or SIGTERM); workers and kernels are gone.

    ``results`` holds one :class:`JobResult` per job: those finished, the rest ``not run``.
    A BaseException like KeyboardInterrupt, so no ``except Exception`` swallows it.
    """

    def __init__(self, signum: int, results: list[JobResult] | None = None) -> None:
        super().__init__(signum)
        self.signum = int(signum)
        self.results = results or []

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 Ctrl-C, 143 SIGTERM)."""
        return 128 + self.signum


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
    paper: str = "A4"
    language: str = "en"  # the page's language: the kernel speaks it, the page is marked so
    glossary_dir: str = ""  # a company's own wording ([pack] glossary_dir)


@dataclass
class JobResult:
    """What happened to one job; ``status`` is ok | failed | timeout | not run."""

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
    problems: list[str] = field(default_factory=list)  # pack files not written, and why
    language: Language | None = None  # the pack's language (index, workbook, summary)

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        """Every notebook ran and every pack file was written."""
        return not self.failed and not self.problems


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
    from kamlab.pack.kernels import warm_engine

    lang = language(job.language, glossary_dir=job.glossary_dir or None)
    started = time.perf_counter()
    ipynb = Path(job.ipynb)
    tmp = _temporary_notebook(ipynb)
    status, error, cell, restart, html_kb = "ok", "", None, False, 0.0
    nb = None  # the executed notebook as papermill returns it; else read back from `tmp`
    try:
        ipynb.parent.mkdir(parents=True, exist_ok=True)
        kernel.run(SPEAK.format(code=job.language, glossary=job.glossary_dir or None))
        nb = pm.execute_notebook(
            job.notebook,
            str(tmp),
            parameters=job.parameters,
            engine_name=warm_engine(),
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
    except OSError as err:  # the notebook could not be read or written: the kernel is fine
        if err.filename is None or Path(err.filename) == tmp:
            err = OSError(err.errno, err.strerror or str(err), str(ipynb))
        status, error = "failed", io_error(err)
    except Exception as err:  # a dead kernel, a broken notebook file, ...
        status, error, restart = "failed", f"{type(err).__name__}: {err}", True
    try:
        if nb is None and tmp.exists() and not error.startswith(IO_ERROR):
            # stopped early: what papermill or the engine saved (a write that failed left
            # half a file, and its error is the one to report)
            try:
                nb = nbformat.read(tmp, as_version=4)
            except (ValueError, nbformat.ValidationError) as err:  # incl. NotJSONError
                error = error or f"the partial notebook is unreadable: {err}"
        if nb is not None:
            unfinished = _unfinished_cell(nb)
            if unfinished is not None:
                cell = cell if cell is not None else unfinished
                if status == "ok":
                    status, error = (
                        "failed",
                        f"notebook stopped before cell {unfinished} without an error",
                    )
            with speaking(lang):
                html = notebook_html(
                    nb, title=job.title, footer=job.footer, paper=job.paper, language=lang.code
                )
            urls = external_urls(html)
            if urls and status == "ok":
                status, error = "failed", f"page would load external URLs: {urls[:3]}"
            atomic_write(Path(job.html), html)
            os.replace(tmp, ipynb)
            html_kb = len(html.encode("utf-8")) / 1024
        else:
            status, error = "failed", error or "papermill wrote no notebook"
    except OSError as err:  # a full or unwritable reports folder: this job fails, not the worker
        status, error = "failed", io_error(err)
    finally:
        tmp.unlink(missing_ok=True)
        _CURRENT["tmp"] = None
    _recover(kernel, restart=restart)
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


# what a warm kernel runs before each notebook: the page's language, process-wide in the
# kernel (modules survive the reset between notebooks, so every notebook sets its own)
SPEAK = """\
import kamlab.i18n as _i18n
_i18n.speak(_i18n.language({code!r}, glossary_dir={glossary!r}))
del _i18n
"""


_ADDRESS = re.compile(
    r"(?:(?P<scheme>tcp|tls|ucx|ws|wss)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)"
    r":(?P<port>\d{1,5})"
)


def check_scheduler(address):
    """`address` if it is a Dask scheduler address ``[tcp://]HOST:PORT`` (or not a text: a
    ``Client``/cluster object, or None); else :class:`PackError` in one line."""
    if not isinstance(address, str):
        return address
    match = _ADDRESS.fullmatch(address.strip())
    if match is None or not 0 < int(match["port"]) < 65536:
        raise PackError(
            f"--scheduler: expected a Dask scheduler address tcp://HOST:PORT "
            f"(e.g. tcp://10.0.0.5:8786), got {address!r}"
        )
    return address.strip()


IO_ERROR = "cannot read or write"


def io_error(err: OSError) -> str:
    """One line naming the path and the reason: ``cannot read or write PATH: No space left
    on device``."""
    paths = [p for p in (err.filename, err.filename2) if p is not None]
    where = " -> ".join(str(p) for p in paths) or "a file"
    return f"{IO_ERROR} {where}: {err.strerror or err}"


# what the worker's signal handler must clean up: the temporary notebook being written
_CURRENT: dict[str, Path | None] = {"tmp": None}


def _temporary_notebook(ipynb: Path) -> Path:
    """Where papermill writes `ipynb` first: unique per process, so two packs never race."""
    tmp = ipynb.with_name(f".tmp-{os.getpid()}-{ipynb.name}")
    _CURRENT["tmp"] = tmp
    return tmp


def _recover(kernel, *, restart: bool) -> None:
    """Make `kernel` ready for the next notebook: reset it, or restart it if that fails."""
    if not restart and kernel.is_alive():
        try:
            kernel.reset()
            return
        except Exception:  # a reset that fails means a broken kernel: start afresh
            pass
    kernel.restart()


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
    from kamlab.processes import stop_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the pack process: it decides
    kernel = WarmKernel(cwd=cwd)

    def stop(signum: int = signal.SIGTERM, frame=None) -> None:
        kernel.kill()
        tmp = _CURRENT["tmp"]
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    stop_with_parent(stop)  # the pack process was killed outright: stop too
    try:
        kernel.start(preload)
    except Exception as err:  # report and let the other workers carry on
        kernel.kill()
        results.put(("dead", f"kernel start failed: {type(err).__name__}: {err}"))
        return
    results.put(("kernel", kernel.pid))
    try:
        while (job := tasks.get()) is not None:
            pid = kernel.pid
            try:
                result = execute_job(job, kernel, timeout=timeout)
            except Exception as err:  # never lose the worker and the jobs queued on it
                result = _not_done(job, "failed", f"{type(err).__name__}: {err}")
                _recover(kernel, restart=True)
            if kernel.pid != pid:  # restarted after a timeout or crash: the pack must know
                results.put(("kernel", kernel.pid))
            results.put(("done", result))
    finally:
        kernel.shutdown()


def _not_done(job: Job, status: str, error: str) -> JobResult:
    return JobResult(job.key, job.kind, job.name, job.slug, status, 0.0, error=error)


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
    """Run `jobs` on `workers` warm kernels (processes) or on the Dask cluster at `scheduler`.

    The portfolio page, the one notebook that goes through every customer, starts first: run
    last, it would keep one worker busy while the others have nothing left to do. Results
    come back in the order of `jobs`.
    """
    if not jobs:
        return []
    queued = sorted(jobs, key=lambda job: job.kind != "portfolio")  # stable: customers in order
    if scheduler is not None:
        finished: dict[str, JobResult] = {}

        def record(result: JobResult) -> None:
            finished[result.key] = result
            on_done(result)

        with _signals_raise_interrupted():
            try:
                results = _run_dask(
                    queued,
                    scheduler=scheduler,
                    preload=preload,
                    timeout=timeout,
                    cwd=cwd,
                    on_done=record,
                )
            except (KeyboardInterrupt, PackInterrupted) as err:  # the client cancels the rest
                raise _interrupted(err, jobs, finished) from None
        by_key = {r.key: r for r in results}
        return [by_key[j.key] for j in jobs]
    ctx = mp.get_context("spawn")
    tasks, results = ctx.Queue(), ctx.Queue()
    n = max(1, min(workers, len(jobs)))
    for job in queued:
        tasks.put(job)
    for _ in range(n):
        tasks.put(None)
    procs = [
        ctx.Process(target=_worker, args=(tasks, results, preload, timeout, cwd), daemon=True)
        for _ in range(n)
    ]
    done: dict[str, JobResult] = {}
    kernels: list[int] = []
    dead = 0
    with _signals_raise_interrupted():
        try:
            _start_ignoring_sigint(procs)
            while len(done) < len(jobs):
                try:
                    kind, payload = results.get(timeout=1.0)
                except queue.Empty:
                    if not any(p.is_alive() for p in procs):
                        break
                    continue
                if kind == "kernel":
                    kernels.append(payload)
                elif kind == "done":
                    done[payload.key] = payload
                    on_done(payload)
                elif kind == "dead":
                    dead += 1
                    if dead == n:
                        break
        except (KeyboardInterrupt, PackInterrupted) as err:
            _stop(procs, kernels)
            while True:  # results the workers sent before they stopped still count
                try:
                    kind, payload = results.get(timeout=0.2)
                except (queue.Empty, OSError, EOFError, ValueError):
                    break
                if kind == "done":
                    done[payload.key] = payload
            raise _interrupted(err, jobs, done) from None
        for p in procs:
            p.join(timeout=30)
        _stop(procs, kernels)  # only a worker that hangs is still there
    for job in jobs:  # whatever no worker could finish
        if job.key not in done:
            r = _not_done(job, "failed", "no worker finished this notebook (worker or kernel died)")
            done[job.key] = r
            on_done(r)
    return [done[j.key] for j in jobs]


def _interrupted(err: BaseException, jobs, done: dict[str, JobResult]) -> PackInterrupted:
    """The :class:`PackInterrupted` to raise: results so far, every other job ``not run``."""
    signum = err.signum if isinstance(err, PackInterrupted) else signal.SIGINT
    so_far = [done.get(j.key) or _not_done(j, "not run", "the pack was stopped") for j in jobs]
    return PackInterrupted(signum, so_far)


def _start_ignoring_sigint(procs) -> None:
    """Start `procs` with SIGINT ignored from their first instruction (inherited over exec)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to change
        previous = None
    try:
        for p in procs:
            p.start()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


class _signals_raise_interrupted:
    """While jobs run, SIGTERM raises :class:`PackInterrupted` (as SIGINT raises KeyboardInterrupt)."""

    def __enter__(self):
        def raise_interrupted(signum, frame):
            raise PackInterrupted(signum)

        try:
            self.previous = signal.signal(signal.SIGTERM, raise_interrupted)
        except ValueError:  # not the main thread
            self.previous = None
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def _stop(procs, kernels: list[int]) -> None:
    """Terminate the workers still alive (each kills its kernel), then kill what is left."""
    alive = [p for p in procs if p.is_alive()]
    for p in alive:
        p.terminate()
    deadline = time.monotonic() + 5
    hung = False
    for p in alive:
        p.join(timeout=max(0.1, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(timeout=2)
            hung = True
    for pid in kernels if hung else ():  # a worker killed before it could kill its kernel
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# -- Dask ---------------------------------------------------------------------------------------
def _run_dask(jobs, *, scheduler, preload, timeout, cwd, on_done) -> list[JobResult]:
    from distributed import Client, as_completed

    from kamlab.pack.dask import PLUGIN, WarmKernelPlugin, execute_on_worker

    with Client(scheduler) as client:
        client.register_plugin(WarmKernelPlugin(preload, cwd), name=PLUGIN)
        futures: dict = {}
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
        finally:  # also when stopped: no task left running, every worker's kernel killed
            _stop_dask(client, list(futures), PLUGIN)
    return [done[j.key] for j in jobs]


def _stop_dask(client, futures: list, plugin: str) -> None:
    """Cancel what has not run and remove the warm-kernel plugin (its teardown kills each
    worker's kernel, also one busy with a notebook). A failure here (a worker gone, its
    kernel already dead) never replaces the pack's result or its stop."""
    for step in (lambda: client.cancel(futures), lambda: client.unregister_worker_plugin(plugin)):
        try:
            step()
        except Exception:  # the kernels of a worker that is gone went with it
            pass


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
