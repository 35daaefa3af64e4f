"""One process asking a chat provider through the metered client, with the providers' limits
shared in Redis: what a worker does, run as its own process by the shared-limit tests.

    python -m tests.limits_client CHAT_URL REDIS_URL PREFIX REQUESTS RPM CONCURRENCY

Prints how many answers came back.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    from lm_eval.api.instance import Instance
    from lm_eval.models.api_models import JsonChatStr

    from evaluation.lm_eval_runner import load_lm
    from evaluation.providers import metering
    from evaluation.providers.limits import SharedLimits
    from evaluation.spec import ModelSpec, Serving

    url, redis_url, prefix, count, rpm, concurrency = argv
    spec = ModelSpec(
        kind="openai-chat",
        pretrained="limited",
        base_url=url,
        batch_size=1,
        apply_chat_template=True,
        serving=Serving(concurrency=int(concurrency), requests_per_minute=float(rpm), timeout_s=20),
    )
    limits = SharedLimits(redis_url, prefix) if redis_url != "-" else None
    with metering(limits=limits):
        lm = load_lm(spec, "cpu")  # `concurrency` threads: two processes send twice that
        requests = [
            Instance(
                request_type="generate_until",
                doc={},
                arguments=(
                    JsonChatStr(json.dumps([{"role": "user", "content": f"question {i}"}])),
                    {"until": ["\n\n"], "max_gen_toks": 4},
                ),
                idx=0,
            )
            for i in range(int(count))
        ]
        texts = lm.generate_until(requests)
    print(len(texts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
