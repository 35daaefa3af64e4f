"""A helper process of `evaluation.data_parallel`: one more copy of a transformers model, on
the one GPU its CUDA_VISIBLE_DEVICES names, scoring the requests the job's process sends.

It reads pickled messages on stdin (("load", spec, device), then ("score", request type,
request arguments) as often as sent) and answers each on stdout with (status, value); it ends
when stdin closes. Started as `python -m evaluation.data_parallel_copy`.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import IO, Any

from evaluation.errors import ModelError, SetupError
from evaluation.lm_eval_runner import load_lm


def _serve(inbox: IO[bytes], outbox: IO[bytes]) -> None:
    """A helper's loop: load the model, then score each request list sent, until stdin ends."""
    from lm_eval.api.instance import Instance

    lm: Any = None
    while True:
        try:
            message = pickle.load(inbox)
        except EOFError:
            return
        try:
            if message[0] == "load":
                _, spec, device = message
                lm = load_lm(spec, device)
                reply: Any = None
            else:
                _, request_type, arguments = message
                requests = [
                    Instance(request_type=request_type, doc={}, arguments=args, idx=0)
                    for args in arguments
                ]
                reply = getattr(lm, request_type)(requests, disable_tqdm=True)
            answer: tuple[str, Any] = ("ok", reply)
        except ModelError as exc:
            answer = ("model-error", str(exc))
        except SetupError as exc:
            answer = ("setup-error", str(exc))
        except Exception as exc:  # reported to the job's process, which decides the blame
            answer = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, outbox, protocol=pickle.HIGHEST_PROTOCOL)
        outbox.flush()


def main() -> None:
    # Replies go on the real stdout; anything a library prints goes to stderr instead.
    outbox = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _serve(sys.stdin.buffer, outbox)


if __name__ == "__main__":
    main()
