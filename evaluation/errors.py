"""Who is blamed when a benchmark cannot score a model: the contract between a benchmark's
`evaluate` and whoever runs it (the site's runner, the command line).

- `ModelError`: the model's fault (it cannot be loaded, refuses, fits no item, needs a method
  its kind cannot give). Final: another attempt would fail the same way; the message is for
  the submitter.
- `SetupError`: the installation's fault (a judge panel or reference judge that is missing or
  badly configured, options the caller passed that the benchmark cannot honour, a release
  that holds nothing to score). Final too, but not the model's: the site tells the submitter
  so and reports the message to its operators, who fix the set-up and run the job again.
- `ProviderBusy`: nobody's fault: a served model's provider asked to wait longer than a
  request waits in place; the run is started again once the wait is over.
- Anything else is infrastructure (a lost GPU, a full disk, a provider that is down, a bug):
  the site retries it, up to its retry limit.

A benchmark raises one of the first two on purpose; a plain `ValueError` or `RuntimeError`
that escapes it is treated as infrastructure like any other exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class ModelError(RuntimeError):
    """The model cannot be evaluated; the message says why, for the submitter."""


class BudgetExceeded(ModelError):
    """The job's estimated cost reached its budget; it stops with this message."""


class SetupError(RuntimeError):
    """This installation cannot run the evaluation as configured; the message says what to fix,
    for the operators (the submitter is told it is not their model's fault)."""


class ProviderBusy(RuntimeError):
    """The provider asked to wait longer (`Retry-After`) than a request waits in place: the
    run is to wait `wait_s` seconds and start again (the site's worker queues the job again;
    the command line says so and exits)."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


@contextmanager
def judged_by_setup(judge: str) -> Iterator[None]:
    """Run a judge the installation chose (a reference judge, a judge panel): the model under
    evaluation is not to blame when that judge cannot load or answer, so its `ModelError`
    becomes a `SetupError` naming it. The job's budget, which its judges spend too, stays
    spent whoever spent it (`BudgetExceeded` passes as it is)."""
    try:
        yield
    except BudgetExceeded:
        raise
    except ModelError as exc:
        raise SetupError(f"judge {judge}: {exc}") from exc
