"""Build a tiny causal LM offline: a byte-level BPE tokenizer trained on a corpus, a randomly initialised Llama.

Tests and CPU demos use it where no model can be downloaded. The tokenizer has a ChatML-style chat template and
``<|im_end|>`` as its EOS, so generation stops at the end of an assistant turn.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


# The size of the embedded default model (a few million parameters): what benchmarks/speed/generation.py measures.
EMBEDDED_SIZE = {"hidden_size": 128, "layers": 4, "heads": 4}  # = configs/pretrain.yaml


def build_tokenizer(corpus: Iterable[str], vocab_size: int = 512):
    """Train a byte-level BPE tokenizer on ``corpus`` (a second on CPU) and wrap it for ``transformers``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    # One token per digit: numbers then read and add digit by digit, which a small model can learn.
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(corpus, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<pad>",
        unk_token="<|endoftext|>",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_model(vocab_size: int, *, hidden_size: int = 64, layers: int = 2, heads: int = 4, seed: int = 0):
    """A randomly initialised Llama of the given size (float32)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=0,
        eos_token_id=2,
        pad_token_id=3,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return LlamaForCausalLM(config).float()


def save_tiny_model(
    out: Path,
    corpus: Iterable[str],
    *,
    vocab_size: int = 512,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    seed: int = 0,
) -> Path:
    """Build a tokenizer and a model and ``save_pretrained`` both into ``out``."""
    tokenizer = build_tokenizer(corpus, vocab_size)
    ids = [tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS[:3]]
    if ids != [0, 1, 2] or tokenizer.pad_token_id != 3:
        raise RuntimeError(f"special tokens landed at unexpected ids {ids}")
    model = build_model(len(tokenizer), hidden_size=hidden_size, layers=layers, heads=heads, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
