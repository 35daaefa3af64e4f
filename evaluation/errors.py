"""Errors the harness raises for callers to tell apart.

A `ModelError` means the model itself cannot be evaluated (cannot be loaded, needs remote code,
missing backend): retrying on another worker will not help. Anything else is treated by callers
as an infrastructure failure.
"""

from __future__ import annotations


class ModelError(RuntimeError):
    """The model cannot be evaluated; the message says why, for the submitter."""
