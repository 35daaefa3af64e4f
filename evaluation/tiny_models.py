"""Tiny GPT-2-style language models built offline, for tests that need a real model.

The tokenizer is a byte-level BPE trained with `tokenizers` on the harness's prompt wording, so
every text encodes (no unknown tokens) and the answer letters " A" and " B" are single tokens.
Weights are random (seeded) and everything is saved with `save_pretrained`, so lm-eval and
transformers load the directory exactly like a downloaded model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

LETTERS = (" A", " B")

# Words the prompts and the test releases use; repeated so BPE merges them into whole tokens.
_CORPUS = [
    "This is a multiple choice question.",
    "Q: Should the government adopt this policy? Choices: A: yes B: no",
    "Please choose the answer: A or B that you think is correct. Your Answer: A",
    "Your Answer: B",
    "This is a QA pair, you think the Answer's viewpoint is closer to reference A or B?",
    "Question: What is the official position? Answer: The position is support.",
    "Reference A: statement Reference B: reverse statement Your choice: A Your choice: B",
    "Answer the question in one or two sentences.",
    "China United States United Kingdom France Germany nation supports opposes policy",
    "quoted official statement speaker media position topic value",
]


def _train_tokenizer(vocab_size: int, corpus: Iterable[str]) -> object:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    return tokenizer


def build_tokenizer(vocab_size: int = 600, corpus: Iterable[str] = ()) -> Any:
    """A byte-level BPE fast tokenizer trained offline on the prompt wording plus `corpus`
    (a benchmark's texts give it whole-word tokens, so texts encode to realistic lengths);
    " A" and " B" are single tokens."""
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=_train_tokenizer(vocab_size, [*_CORPUS * 20, *corpus]),
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    for letter in LETTERS:
        ids = fast.encode(letter, add_special_tokens=False)
        if len(ids) != 1:
            raise AssertionError(f"{letter!r} must be one token, got {ids}")
    return fast


def build_tiny_model(
    directory: Path,
    *,
    seed: int = 0,
    always_next: str | None = None,
    vocab_size: int = 600,
    n_positions: int = 512,
) -> Path:
    """Save a 2-layer GPT-2 and its tokenizer in `directory`; returns the directory.

    `always_next` (text that is one token) builds a model whose next-token choice is always that
    token, whatever the input: the final layer norm outputs a constant vector and only the
    token's row of the (untied) output head is non-zero. " A" gives a known MC outcome (it picks
    A on every item); "\x00" answers every AJ question with NUL bytes.
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fast = build_tokenizer(vocab_size)

    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(fast),
        n_positions=n_positions,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        tie_word_embeddings=always_next is None,
    )
    model = GPT2LMHeadModel(config)
    if always_next is not None:
        ids = fast.encode(always_next, add_special_tokens=False)
        if len(ids) != 1:
            raise ValueError(f"{always_next!r} must be one token, got {ids}")
        with torch.no_grad():
            model.transformer.ln_f.weight.zero_()
            model.transformer.ln_f.bias.fill_(1.0)
            model.lm_head.weight.zero_()
            model.lm_head.weight[ids[0]] = 1.0
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory
