"""One database per pack: the file a pack started with, pinned while it runs.

``kamlab ingest`` replaces the database by renaming a new file over it. A pack that read the
path again later (every kernel does) would mix two datasets. :func:`pin_database` therefore
gives the pack a file of its own holding the very bytes it started with: a hard link beside
the database (instant, no space: the rename gives the path a new file and leaves the linked
one as it was), or, where no link can be made (another file system, a read-only folder), a
copy in the cache folder. The pack and all its kernels read only that file; its fingerprint
(sha256 of the bytes) names the data in the footer of every page, the run log and pack.json.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from kamlab.chain.errors import ChainError

__all__ = ["PinnedDatabase", "fingerprint", "pin_database"]

_PINNED = re.compile(r"\.(?P<name>.+)\.pack-(?P<pid>\d+)-[0-9a-f]{8}$")


def fingerprint(path: str | os.PathLike) -> str:
    """sha256 (16 hex) of the file's bytes: which data a pack was built from."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class PinnedDatabase:
    """The pack's own copy of the database (`path`), of `original`, with its `fingerprint`."""

    path: Path
    original: Path
    fingerprint: str

    def release(self) -> None:
        """Remove the pinned file (the original is never touched)."""
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> PinnedDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def pin_database(database: Path, spare: Path) -> PinnedDatabase:
    """Pin `database` for one pack: a hard link beside it, else a copy in the folder `spare`.

    Pinned files left by packs that were killed are removed first. Raises
    :class:`ChainError` naming the path and the reason when neither can be made.
    """
    name = f".{database.name}.pack-{os.getpid()}-{secrets.token_hex(4)}"
    _remove_orphans(database.parent, database.name)
    pinned = database.with_name(name)
    try:
        os.link(database, pinned)
    except OSError as err:
        if err.errno == errno.ENOENT:
            raise ChainError(
                f"data source {str(database)!r} disappeared while pinning it"
            ) from None
        pinned = spare / name.lstrip(".")
        try:
            spare.mkdir(parents=True, exist_ok=True)
            _remove_orphans(spare, database.name)
            shutil.copyfile(database, pinned)
        except OSError as copy_err:
            pinned.unlink(missing_ok=True)
            raise ChainError(
                f"cannot pin the database {str(database)!r} for this pack: no link beside it "
                f"({err.strerror or err}) and no copy in {str(spare)!r} "
                f"({copy_err.strerror or copy_err})"
            ) from None
    return PinnedDatabase(pinned, database, fingerprint(pinned))


def _remove_orphans(folder: Path, name: str) -> None:
    """Remove pinned copies of `name` in `folder` whose pack process is gone."""
    try:
        candidates = list(folder.iterdir())
    except OSError:
        return
    for path in candidates:
        match = _PINNED.fullmatch(path.name) or _PINNED.fullmatch("." + path.name)
        if match is None or match["name"] != name:
            continue
        if not _alive(int(match["pid"])):
            try:
                path.unlink(missing_ok=True)
            except OSError:  # not ours to remove (a read-only or shared folder)
                pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
