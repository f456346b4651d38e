"""A model folder that cannot load (issue 26, item 5): what an interrupted download or a wrong folder leaves is one
line from the preflight, before any model loads, that says what to do. Each case damages a copy of the tiny model."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.core.one_line import one_line_error


def _cut_in_half(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _index_without_shards(model):
    (model / "model.safetensors").unlink()
    shards = {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}
    (model / "model.safetensors.index.json").write_text(json.dumps({"weight_map": shards}))


def _set_model_type(model_type):
    def edit(model):
        config = json.loads((model / "config.json").read_text())
        (model / "config.json").write_text(json.dumps({**config, "model_type": model_type}))

    return edit


REDOWNLOAD = "an interrupted download? re-download the model, or save it again"
BROKEN_MODELS = {
    # id: (what is done to the folder, what the line says is wrong, what it says to do)
    "no weights": (lambda m: (m / "model.safetensors").unlink(), "no weights beside config.json", REDOWNLOAD),
    "missing shards": (_index_without_shards, "2 of the 2 weight files model.safetensors.index.json names", REDOWNLOAD),
    "truncated weights": (
        lambda m: _cut_in_half(m / "model.safetensors"),
        "model.safetensors is cut short",
        REDOWNLOAD,
    ),
    "corrupt header": (
        lambda m: (m / "model.safetensors").write_bytes(b"\x10" + b"\0" * 7 + b"not a header!!!!"),
        "model.safetensors has a corrupt safetensors header",
        REDOWNLOAD,
    ),
    "truncated config": (lambda m: _cut_in_half(m / "config.json"), "config.json is not valid JSON", REDOWNLOAD),
    "no tokenizer": (
        lambda m: [(m / name).unlink() for name in ("tokenizer.json", "tokenizer_config.json")],
        "no tokenizer files",
        REDOWNLOAD,
    ),
    "unknown model_type": (
        _set_model_type("frobnicator"),
        "model_type 'frobnicator', which transformers",
        "upgrade it (pip install -U transformers)",
    ),
    "not a causal LM": (_set_model_type("t5"), "'t5', which is not a causal language model", "give a decoder-only"),
}


@pytest.mark.parametrize(("corrupt", "wrong", "what_to_do"), BROKEN_MODELS.values(), ids=BROKEN_MODELS.keys())
def test_a_broken_model_folder_is_one_line(corrupt, wrong, what_to_do, tiny_model_dir, tmp_path, capsys,
                                           no_model_loading):  # fmt: skip
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    corrupt(model)
    err = one_line_error(["eval", f"model={model}", "limit=1", f"run_dir={tmp_path / 'run'}"], wrong, capsys)
    assert f"model='{model}': " in err and what_to_do in err, err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", ["train", "benchmark"])
def test_every_command_that_loads_a_model_checks_its_folder_first(command, tiny_model_dir, tmp_path, capsys,
                                                                  no_model_loading):  # fmt: skip
    """Training, and a benchmark before any of its methods runs (no report directory is made). ``sweep`` takes its
    model from a benchmark preset and goes through the same check."""
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    _cut_in_half(model / "model.safetensors")
    where = "run_dir" if command == "train" else "report_dir"
    one_line_error([command, f"model={model}", f"{where}={tmp_path / 'out'}"], REDOWNLOAD, capsys)
    assert not (tmp_path / "out").exists()


def test_a_file_given_as_the_model_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "model.safetensors").write_bytes(b"")
    one_line_error(["eval", f"model={tmp_path / 'model.safetensors'}"], "is a file, not a model directory", capsys)


def test_a_damaged_embedded_model_says_to_reinstall_score_env(tiny_model_dir, tmp_path, capsys, monkeypatch):
    from score_env import assets

    model = shutil.copytree(tiny_model_dir, tmp_path / "arithmetic-base")
    (model / "model.safetensors").unlink()
    monkeypatch.setattr(assets, "embedded_model_path", lambda: model)
    err = one_line_error(["eval", "model=embedded"], "no weights beside config.json (none of model.safetensors", capsys)
    assert f"model='embedded' ({model}): " in err and "reinstall score-env" in err, err
