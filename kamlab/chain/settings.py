"""Settings resolved once per pack and handed, resolved, to every kernel.

:func:`resolve_settings` is the one place that decides where settings come from: a
:class:`~kamlab.config.Settings` given by the caller, else the file given with ``--config``
(a ``kamlab.toml``, or the resolved-settings JSON a pack writes for its kernels), else
``./kamlab.toml`` in the working directory, else the defaults. The pack writes the resolved
settings with :func:`write_settings` and passes that file to each kernel, so kernels that
start in ``reports/YYYY-MM/`` use exactly the settings (and cache entry) of the pack.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from kamlab.config import Settings, check_settings, load_settings, settings_from_mapping

__all__ = ["resolve_settings", "settings_digest", "settings_mapping", "write_settings"]

RESOLVED_SUFFIX = ".json"


def resolve_settings(
    config: Settings | str | os.PathLike | None = None,
    *,
    database: str | os.PathLike | None = None,
) -> Settings:
    """The settings of this run: `config` as given, else ``./kamlab.toml``, else the settings
    the `database` was ingested with (``kamlab ingest`` records them), else the defaults.

    `config` is a :class:`Settings`, a path to a ``kamlab.toml``, or a path to a ``.json``
    file written by :func:`write_settings` (complete, already resolved settings). The
    database's own location cannot come from its recorded settings (``--source``,
    ``$KAMLAB_DATABASE`` or ``[pack] database`` find it). Settings built in code are checked
    by the same rules as a file's (:func:`check_settings`).
    """
    if isinstance(config, Settings):
        return check_settings(config)
    if config is None and database is not None and not Path("kamlab.toml").is_file():
        from kamlab.data.store import recorded_settings

        text = recorded_settings(database)
        if text:
            import tomllib

            return settings_from_mapping(
                tomllib.loads(text), where=f"{Path(database).name} (settings recorded at ingest)"
            )
    if config is not None and Path(config).suffix == RESOLVED_SUFFIX:
        path = Path(config)
        return settings_from_mapping(json.loads(path.read_text(encoding="utf-8")), where=path.name)
    return load_settings(config)


def settings_mapping(settings: Settings) -> dict:
    """`settings` as plain JSON-able tables, section by section (tuples become lists)."""
    return dataclasses.asdict(settings)


def settings_digest(settings: Settings) -> str:
    """A short, stable hash of the resolved settings (part of the analytics cache key)."""
    text = json.dumps(settings_mapping(settings), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def write_settings(settings: Settings, directory: str | os.PathLike) -> Path:
    """Write the resolved `settings` to ``<directory>/settings-<digest>.json``; return its path.

    The name depends only on the content, so packs with equal settings share one file; it
    is written to a unique temporary file first and renamed, so a reader never sees half.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"settings-{settings_digest(settings)}{RESOLVED_SUFFIX}"
    if not path.exists():
        tmp = directory / f".tmp-{os.getpid()}-{path.name}"
        tmp.write_text(json.dumps(settings_mapping(settings), indent=1), encoding="utf-8")
        os.replace(tmp, path)
    return path
