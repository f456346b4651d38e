"""What a local model directory must hold before it is loaded, checked in about a second without loading a tensor.

It catches what an interrupted download or save leaves behind, and what transformers would only report after a long
traceback: a ``config.json`` that is cut short or names an architecture transformers does not know, weights that are
missing (no weight file, or shards that an index names but that are not there), a weight file cut short or with a
corrupt header, and no tokenizer. It does not prove that the weights load: tensors whose bytes are damaged, or whose
names or shapes do not fit the architecture, still fail when the model loads.

The weight files are looked for in transformers' own order (``modeling_utils._get_resolved_checkpoint_files``):
``model.safetensors``, ``model.safetensors.index.json``, ``pytorch_model.bin``, ``pytorch_model.bin.index.json``.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
# Any one of these lets AutoTokenizer build a tokenizer (a fast one's JSON, or a slow one's vocabulary).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "spiece.model", "vocab.json", "vocab.txt", "tiktoken.model")
MAX_SAFETENSORS_HEADER = 100_000_000  # the safetensors format's own limit on its JSON header, in bytes


class ModelFilesError(ValueError):
    """A model directory that cannot load. The message names the file (relative to the directory) and what is wrong
    with it; ``damaged`` says whether the remedy is to fetch the files again (the caller knows from where: a
    download, a save, an install), else the message ends with what to do."""

    def __init__(self, message: str, *, damaged: bool = True):
        super().__init__(message)
        self.damaged = damaged


def check_model_files(path: Path) -> None:
    """Raise :class:`ModelFilesError` unless ``path`` (a directory holding ``config.json``) has a readable config
    naming a causal LM that transformers knows, weight files whose headers read, and tokenizer files."""
    config = _read_json(path, "config.json")
    _check_model_type(config)
    _check_weights(path)
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise ModelFilesError(f"no tokenizer files (none of {', '.join(TOKENIZER_FILES)})")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if (path / name).is_file():
            _read_json(path, name)


def _read_json(path: Path, name: str) -> dict[str, Any]:
    try:
        data = json.loads((path / name).read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFilesError(f"{name} is not valid JSON, cut short or corrupt ({exc})") from None
    if not isinstance(data, dict):
        raise ModelFilesError(f"{name} holds a JSON {type(data).__name__}, not an object")
    return data


def _check_model_type(config: dict[str, Any]) -> None:
    """The architecture, as AutoModelForCausalLM will look it up (score-env never runs a model's own code)."""
    import transformers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    model_type = config.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        raise ModelFilesError("config.json names no model_type, so transformers cannot tell the architecture")
    if model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return
    if model_type in CONFIG_MAPPING_NAMES:
        raise ModelFilesError(
            f"config.json names model_type {model_type!r}, which is not a causal language model "
            "(AutoModelForCausalLM cannot load it): give a decoder-only model",
            damaged=False,
        )
    if "auto_map" in config:
        raise ModelFilesError(
            f"config.json names model_type {model_type!r}, which comes with the model's own code (auto_map) that "
            "score-env does not run: give a model whose architecture transformers has",
            damaged=False,
        )
    raise ModelFilesError(
        f"config.json names model_type {model_type!r}, which transformers {transformers.__version__} does not know: "
        "upgrade it (pip install -U transformers), or check that this is the model you meant",
        damaged=False,
    )


def _check_weights(path: Path) -> None:
    """The weight file transformers would pick, or every shard its index names; each one's header."""
    chosen = next((name for name in WEIGHT_FILES if (path / name).is_file()), None)
    if chosen is None:
        raise ModelFilesError(f"no weights beside config.json (none of {', '.join(WEIGHT_FILES[:3])})")
    names = [chosen]
    if chosen.endswith(".index.json"):
        weight_map = _read_json(path, chosen).get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise ModelFilesError(f"{chosen} has no weight_map naming the weight files")
        names = sorted(set(map(str, weight_map.values())))
        missing = [name for name in names if not (path / name).is_file()]
        if missing:
            named = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
            raise ModelFilesError(f"{len(missing)} of the {len(names)} weight files {chosen} names are missing "
                                  f"({named})")  # fmt: skip
    for name in names:
        if name.endswith(".safetensors"):
            _check_safetensors(path, name)
        else:
            _check_torch_file(path, name)


def _check_safetensors(path: Path, name: str) -> None:
    """The layout of the safetensors format: an 8-byte little-endian header length, then a JSON header whose
    tensors' ``data_offsets`` cover the bytes after it exactly. Reads the header only."""
    size = (path / name).stat().st_size
    with (path / name).open("rb") as f:
        head = f.read(8)
        length = struct.unpack("<Q", head)[0] if len(head) == 8 else None
        if length is None or length > min(size - 8, MAX_SAFETENSORS_HEADER):
            raise ModelFilesError(f"{name} is cut short or is not a safetensors file ({size:,} bytes)")
        expected = 8 + length + _tensor_bytes(f.read(length), name)
    if size != expected:
        what = "is cut short" if size < expected else "is corrupt"
        raise ModelFilesError(f"{name} {what}: {size:,} bytes where its header declares {expected:,}")


def _tensor_bytes(header: bytes, name: str) -> int:
    """Where the last tensor's data ends, from a safetensors JSON header."""
    try:
        tensors = [t for key, t in json.loads(header).items() if key != "__metadata__"]
        ends = [t["data_offsets"][1] for t in tensors]
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, KeyError, IndexError, TypeError):
        ends = None
    if ends is None or not all(isinstance(end, int) and end >= 0 for end in ends):
        raise ModelFilesError(f"{name} has a corrupt safetensors header")
    return max(ends, default=0)


def _check_torch_file(path: Path, name: str) -> None:
    """A ``torch.save`` file: a zip archive (since torch 1.6) must end with its directory; an older pickle is
    taken as it is."""
    with (path / name).open("rb") as f:
        magic = f.read(2)
    if not magic:
        raise ModelFilesError(f"{name} is empty")
    if magic == b"PK" and not zipfile.is_zipfile(path / name):
        raise ModelFilesError(f"{name} is cut short (a zip archive without its end)")
