"""OPA's metric code for lm-eval: copied verbatim into every export as `utils.py`, so stock
`lm_eval` computes the same per-item margins and accuracies as the site.

It imports nothing from this project (a stock run has only lm-eval and its dependencies).
The site's harness imports it too, so there is one definition of OPA.

lm-eval's multiple-choice requests return, per answer, the *sum* of its tokens'
log-probabilities; OPA divides by the answer's number of tokens. lm-eval does not report that
count, so the dataset loader (`load_docs`, the task's `custom_dataset`) counts it with the
model's own tokenizer exactly as lm-eval's HF backend splits context and continuation: encode
prompt + answer and the prompt alone (tokenizer defaults, or `add_bos_token` when given),
moving trailing whitespace of the prompt to the answer; the answer's tokens are the ones after
the prompt's. lm-eval passes the run's `model_args` to the loader as metadata, which is how it
knows the tokenizer (`tokenizer`, else `pretrained`, at `revision`).
"""

from __future__ import annotations

import json
from typing import Any

DELTAS = (0.0, 0.2, 2.0, 4.0, 6.0, 8.0)


def delta_key(delta: float) -> str:
    """The metric name of the accuracy at `delta`: acc_0, acc_0p2, acc_2, ..."""
    text = f"{delta:g}".replace(".", "p")
    return f"acc_{text}"


METRICS = ("opa", "margin", *(delta_key(d) for d in DELTAS))


def split_pair(context: str, continuation: str) -> tuple[str, str]:
    """lm-eval's split: whitespace at the end of the context belongs to the continuation."""
    stripped = context.rstrip()
    return stripped, context[len(stripped) :] + continuation


def answer_token_count(tokenizer: Any, prompt: str, answer: str, add_bos: bool | None) -> int:
    context, continuation = split_pair(prompt, answer)
    kwargs = {} if add_bos is None else {"add_special_tokens": add_bos}
    whole = tokenizer.encode(context + continuation, **kwargs)
    return len(whole) - len(tokenizer.encode(context, **kwargs))


def _as_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def load_tokenizer(metadata: dict[str, Any]) -> Any:
    from transformers import AutoTokenizer

    name = metadata.get("tokenizer") or metadata.get("pretrained") or metadata.get("model")
    if not name:
        raise ValueError(
            "OPA needs the model's tokenizer to count answer tokens: pass "
            "--model_args pretrained=... (or tokenizer=...)"
        )
    revision = metadata.get("revision")
    return AutoTokenizer.from_pretrained(
        str(name),
        revision=str(revision) if revision else None,
        trust_remote_code=False,
    )


def load_docs(**metadata: Any) -> dict[str, Any]:
    """The task's dataset: the exported documents with each answer's token count."""
    import datasets

    data_file = metadata["data_files"]["test"]
    tokenizer = load_tokenizer(metadata)
    add_bos = _as_bool(metadata.get("add_bos_token"))
    docs = []
    with open(data_file, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            doc = json.loads(line)
            for side in ("w", "l"):
                count = answer_token_count(tokenizer, doc["prompt"], doc[f"answer_{side}"], add_bos)
                if count < 1:
                    raise ValueError(f"item {doc['uid']}: answer_{side} has no tokens")
                doc[f"n_tokens_{side}"] = count
            docs.append(doc)
    return {"test": datasets.Dataset.from_list(docs)}


def item_outcome(ll_w: float, n_w: int, ll_l: float, n_l: int) -> dict[str, float]:
    """One item's OPA metrics from the two answers' summed log-likelihoods and token counts.

    OPA is the mean over deltas of the share of items with margin > delta, which equals the
    mean over items of each item's share of deltas passed: averaged by lm-eval's `mean`
    aggregation it is the published OPA.
    """
    margin = ll_w / n_w - ll_l / n_l
    passed = {delta_key(d): float(margin > d) for d in DELTAS}
    return {"opa": sum(passed.values()) / len(DELTAS), "margin": margin, **passed}


def process_results(doc: dict[str, Any], results: list[Any]) -> dict[str, float]:
    (ll_w, _), (ll_l, _) = results
    return item_outcome(float(ll_w), int(doc["n_tokens_w"]), float(ll_l), int(doc["n_tokens_l"]))


def doc_to_choice(doc: dict[str, Any]) -> list[str]:
    return [doc["answer_w"], doc["answer_l"]]
