"""Local generation with transformers: a model directory (or a hub id already in the cache).

Prompts are batched with left padding so every row's continuation starts at the same column.
Temperature 0 is greedy decoding; above 0 samples with a fixed torch seed, so a rerun without
the cache still reproduces on the same hardware. Remote code is never run.
"""

from __future__ import annotations

from typing import Any

from pipeline.llm.base import LLMBackend, LLMError


class TransformersBackend(LLMBackend):
    backend_id = "transformers"

    def __init__(
        self,
        model: str,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 8,
        chat: bool = False,
        seed: int = 0,
    ) -> None:
        if not model:
            raise ValueError("the transformers backend needs `model` (a directory or hub id)")
        super().__init__(model)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._torch = torch
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.batch_size = max(1, batch_size)
        self.chat = chat
        self.seed = seed
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model, trust_remote_code=False)
            lm: Any = AutoModelForCausalLM.from_pretrained(
                model,
                dtype=dtype if dtype == "auto" else getattr(torch, dtype),
                trust_remote_code=False,
            )
            self.lm = lm.to(device)
        except OSError as exc:
            raise LLMError(f"cannot load model {model!r}: {exc}") from exc
        self.lm.eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def _format(self, prompt: str) -> str:
        if self.chat and getattr(self.tokenizer, "chat_template", None):
            return str(
                self.tokenizer.apply_chat_template(
                    [{"role": "user", "content": prompt}],
                    tokenize=False,
                    add_generation_prompt=True,
                )
            )
        return prompt

    def generate(self, prompts: list[str], max_tokens: int, temperature: float) -> list[str]:
        torch = self._torch
        torch.manual_seed(self.seed)
        outputs: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            batch = [self._format(p) for p in prompts[start : start + self.batch_size]]
            encoded = self.tokenizer(batch, return_tensors="pt", padding=True).to(self.device)
            kwargs: dict[str, Any] = {
                "max_new_tokens": max_tokens,
                "pad_token_id": self.tokenizer.pad_token_id,
            }
            if temperature > 0:
                kwargs.update(do_sample=True, temperature=temperature)
            else:
                kwargs.update(do_sample=False)
            with torch.no_grad():
                generated = self.lm.generate(**encoded, **kwargs)
            width = encoded["input_ids"].shape[1]
            outputs.extend(
                self.tokenizer.batch_decode(generated[:, width:], skip_special_tokens=True)
            )
        return outputs
