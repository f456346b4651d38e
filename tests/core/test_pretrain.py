"""score-env pretrain: the embedded model's recipe, at toy size; reproducible from its seed."""

from __future__ import annotations

import torch
from safetensors.torch import load_file

from score_env.assets import embedded_model_path
from score_env.cli import main
from score_env.envs.arithmetic_corpus import pretraining_corpus, solution_steps


def test_solutions_show_their_steps_and_slip_only_when_told():
    import numpy as np

    steps, answer = solution_steps("7 + 3 * 8", np.random.default_rng(0), slip=0.0)
    assert (steps, answer) == (["3 * 8 = 24", "7 + 24 = 31"], 31)
    slipped = [solution_steps("7 + 3 * 8", np.random.default_rng(s), slip=1.0)[1] for s in range(5)]
    assert all(a != 31 for a in slipped)


def test_the_corpus_copies_or_re_solves_at_attempt_two_never_fixes():
    corpus = pretraining_corpus(200, slip=0.3, seed=1)
    roles = {tuple(m.role for m in c) for c in corpus}
    assert roles == {("user", "assistant", "user", "assistant")}
    copies = sum(c[1].content == c[3].content for c in corpus)
    assert 60 < copies < 160  # about half are verbatim copies (re-solves can also coincide)


def test_pretrain_is_reproducible_from_its_seed(tmp_path):
    argv = ["conversations=40", "hidden_size=32", "layers=1", "heads=2", "epochs=1", "batch_tokens=2048"]
    assert main(["pretrain", f"out={tmp_path / 'a'}", *argv]) == 0
    assert main(["pretrain", f"out={tmp_path / 'b'}", *argv]) == 0
    a, b = load_file(str(tmp_path / "a" / "model.safetensors")), load_file(str(tmp_path / "b" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_embedded_model_ships_with_the_package():
    path = embedded_model_path()
    assert (path / "config.json").exists() and (path / "model.safetensors").exists()
    assert (path / "tokenizer.json").exists() and (path / "chat_template.jinja").exists()
