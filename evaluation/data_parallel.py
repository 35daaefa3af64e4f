"""One copy of a transformers model per GPU, each scoring a share of a run's requests, so a job
that fits one GPU uses every GPU of its worker (issue 21: data parallel with the hf backend).

lm-eval's own data parallelism for ``hf`` is ``accelerate launch -m lm_eval``: one process per
GPU, each building the requests of its share of the documents. The worker runs lm-eval inside
its Celery process (progress, context checks, the benchmark's harness between stages), so here
the copies sit below lm-eval instead: the job's process loads copy 0 on its first GPU and
starts one helper process per further GPU (`evaluation.data_parallel_copy`, pinned with
``CUDA_VISIBLE_DEVICES``); every request list lm-eval hands the model is dealt out
round-robin, scored by all copies at once, and put back in its order. A request's result does
not depend on which copy scored it (each is the same weights scoring the same text; only the
batch it shares differs, which on a GPU may move a log-likelihood in its last bits, as any
change of batch size does), so the per-item results are those of one process; the stock
``accelerate launch`` command on the card splits by document instead, to the same results.

Helpers read pickled requests on stdin and write pickled results on stdout; they exit when
stdin closes, so a worker killed mid-job leaves none behind.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import weakref
from dataclasses import replace
from typing import IO, Any

from evaluation.errors import ModelError, SetupError
from evaluation.spec import ModelSpec

#: the request types of lm-eval's LM interface, each a method taking a list of Instances
REQUEST_TYPES = ("loglikelihood", "loglikelihood_rolling", "generate_until")


def gpu_ids(device: str) -> list[str]:
    """The GPUs this process sees, as CUDA_VISIBLE_DEVICES names them (none on the CPU)."""
    if not device.startswith("cuda"):
        return []
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [part.strip() for part in visible.split(",") if part.strip()]
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


class _Helper:
    """One helper process holding a copy of the model."""

    def __init__(self, spec: ModelSpec, device: str, gpu: str | None) -> None:
        env = dict(os.environ)
        if gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = gpu  # its one GPU, seen as cuda:0
        self.process = subprocess.Popen(
            [sys.executable, "-m", "evaluation.data_parallel_copy"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout
        self.send(("load", spec, "cuda" if gpu is not None else device))

    def send(self, message: tuple[Any, ...]) -> None:
        try:
            pickle.dump(message, self.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise RuntimeError(f"a data-parallel copy of the model has exited: {exc}") from exc

    def receive(self) -> Any:
        try:
            status, value = pickle.load(self.stdout)
        except (EOFError, pickle.UnpicklingError, OSError) as exc:
            code = self.process.poll()
            # Not the model's fault as far as anyone knows (killed, out of memory): retried.
            raise RuntimeError(
                f"a data-parallel copy of the model has exited (code {code})"
            ) from exc
        if status == "model-error":
            raise ModelError(value)
        if status == "setup-error":
            raise SetupError(value)
        if status == "error":
            raise RuntimeError(f"a data-parallel copy of the model failed: {value}")
        return value

    def close(self) -> None:
        with contextlib.suppress(OSError):  # already gone: nothing to tell it
            self.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _close_all(helpers: list[_Helper]) -> None:
    for helper in helpers:
        helper.close()


def spread(lm: Any, spec: ModelSpec, device: str) -> Any:
    """LM (copy 0, loaded on DEVICE) scoring with SPEC.replicas copies: the further copies are
    started now, one per GPU after the first (on the CPU, processes standing for GPUs), and
    LM's request methods deal each request list out among all of them. Returns LM."""
    copies = spec.replicas
    if device.startswith("cuda:"):
        # Copy 0 would share a GPU with another copy: the layout is the whole node's.
        raise SetupError(f"data-parallel copies use every GPU: run on cuda, not {device}")
    gpus = gpu_ids(device)
    if gpus and len(gpus) < copies:
        raise SetupError(
            f"{copies} data-parallel copies need {copies} GPUs; this worker sees {len(gpus)}"
        )
    one = replace(spec, replicas=1)
    helpers = [_Helper(one, device, gpus[i] if gpus else None) for i in range(1, copies)]
    # The helpers end with the model: when the harness drops it (to load a judge) or the job ends.
    weakref.finalize(lm, _close_all, helpers)
    for helper in helpers:
        helper.receive()  # loaded (or the load's error, blamed as the parent's would be)
    for request_type in REQUEST_TYPES:
        setattr(lm, request_type, _dealt(request_type, lm, helpers))
    return lm


def _dealt(request_type: str, lm: Any, helpers: list[_Helper]) -> Any:
    """LM's REQUEST_TYPE method, scoring the requests round-robin on LM and the HELPERS. It
    holds LM weakly: a model dropped by the harness is freed, and its helpers closed, at once."""
    copies = len(helpers) + 1
    own = getattr(type(lm), request_type)
    model = weakref.ref(lm)

    def score(requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
        me = model()
        assert me is not None  # called through the model, so it is alive
        shares = [requests[i::copies] for i in range(copies)]
        sent = [(h, share) for h, share in zip(helpers, shares[1:], strict=True) if share]
        for helper, share in sent:
            helper.send(("score", request_type, [request.args for request in share]))
        results = [own(me, shares[0], disable_tqdm=disable_tqdm) if shares[0] else []]
        results += [[] for _ in helpers]
        for helper, share in sent:
            theirs = helper.receive()
            for request, result in zip(share, theirs, strict=True):
                # lm-eval reports each scored request to the hook (progress counts them).
                me.cache_hook.add_partial(request_type, request.args, result)
            results[helpers.index(helper) + 1] = theirs
        merged: list[Any] = [None] * len(requests)
        for i, share_results in enumerate(results):
            merged[i::copies] = share_results
        return merged

    return score
