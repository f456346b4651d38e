"""The model-folder check (score_env/policies/model_files.py) on real saved models: what transformers writes passes,
in each of its weight layouts, and each kind of damage is named. The command-line lines are in test_cli_mistakes."""

from __future__ import annotations

import re
import shutil

import pytest
import torch

from score_env.assets import embedded_model_path
from score_env.policies.model_files import ModelFilesError, check_model_files
from score_env.policies.transformers_backend import load_model_and_tokenizer


@pytest.fixture(scope="module")
def saved_layouts(tiny_model_dir, tmp_path_factory):
    """The tiny model saved as transformers saves it: sharded safetensors, and pytorch_model.bin."""
    model, tokenizer = load_model_and_tokenizer(str(tiny_model_dir))
    root = tmp_path_factory.mktemp("layouts")
    model.save_pretrained(root / "sharded", max_shard_size="100KB")
    tokenizer.save_pretrained(root / "sharded")
    shutil.copytree(tiny_model_dir, root / "bin")
    (root / "bin" / "model.safetensors").unlink()
    torch.save(model.state_dict(), root / "bin" / "pytorch_model.bin")
    return root


def test_what_transformers_saves_passes(tiny_model_dir, saved_layouts):
    assert len(list((saved_layouts / "sharded").glob("model-*.safetensors"))) > 1
    for path in (tiny_model_dir, embedded_model_path(), saved_layouts / "sharded", saved_layouts / "bin"):
        check_model_files(path)


def test_a_cut_short_shard_or_bin_file_is_named(saved_layouts, tmp_path):
    sharded = shutil.copytree(saved_layouts / "sharded", tmp_path / "sharded")
    last = sorted(sharded.glob("model-*.safetensors"))[-1]
    last.write_bytes(last.read_bytes()[:-1])
    with pytest.raises(ModelFilesError, match=f"{re.escape(last.name)} is cut short: "):
        check_model_files(sharded)
    binary = shutil.copytree(saved_layouts / "bin", tmp_path / "bin")
    data = (binary / "pytorch_model.bin").read_bytes()
    (binary / "pytorch_model.bin").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFilesError, match=r"pytorch_model\.bin is cut short"):
        check_model_files(binary)


def test_bytes_after_the_tensors_are_corrupt_and_the_remedy_is_left_to_the_caller(tiny_model_dir, tmp_path):
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    with (model / "model.safetensors").open("ab") as f:
        f.write(b"junk")
    with pytest.raises(ModelFilesError, match=r"model\.safetensors is corrupt: ") as raised:
        check_model_files(model)
    assert raised.value.damaged  # the caller says where to fetch it again from (a download, an install)
