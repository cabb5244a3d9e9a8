"""The one error type of the monthly chain: a parameter or the data cannot make this pack."""

from __future__ import annotations

__all__ = ["ChainError"]


class ChainError(ValueError):
    """A pack parameter is wrong (malformed month, missing database, unknown customer, no data).

    The message is one line a user can act on; the CLI reports it with exit code 2.
    """
