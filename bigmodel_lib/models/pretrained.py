"""Real pretrained weights for the from-scratch models, loaded fast.

SmolLM2-135M-Instruct ships here only as a 4-bit GGUF file. transformers can read it
(`from_pretrained(folder, gguf_file=name)`), de-quantising every tensor to fp32, which takes
tens of seconds. `smollm2_dequantized_dir()` does that once and keeps the result in the
project cache (`<cache>/smollm2_dequantized/<sha256 of the GGUF>/`: model.safetensors,
config.json, tokenizer files, manifest.json), written whole and verified on every load, so later
loads take seconds.

    model, tokenizer = load_smollm2()              # our Llama, from the cached fp32 weights
    ref, tokenizer = load_smollm2_reference()      # transformers' LlamaForCausalLM, same weights
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from ..paths import cache_dir

CACHE_NAME = "smollm2_dequantized"


def smollm2_dequantized_dir(progress: bool = True) -> Path:
    """The cache folder with SmolLM2's de-quantised fp32 weights, keyed by the GGUF's sha256.

    Built on first use (de-quantising the GGUF through transformers) and written whole with a
    manifest (`bigmodel_lib.io.model_folder_writer`); every later call checks the files against it,
    so a damaged cache is named instead of loading silently. A cache from before manifests is rebuilt.
    """
    from ..data import sha256_of, smollm2_gguf
    from ..io import model_folder_writer, verify_model_folder

    gguf = smollm2_gguf()
    digest = sha256_of(gguf)
    final = cache_dir() / CACHE_NAME / digest[:16]
    if verify_model_folder(final, _rebuild_cache_fix(final), warn_unverified=False):
        return final
    with model_folder_writer(final) as staging:
        _dequantize_smollm2(gguf, digest, staging, progress)
    return final


def _rebuild_cache_fix(folder: Path) -> str:
    return f"delete the cache folder {folder} to rebuild it"


def _dequantize_smollm2(gguf: Path, digest: str, folder: Path, progress: bool) -> None:
    """Write SmolLM2's fp32 weights, config, tokenizer files and source.json into `folder`."""
    if progress:
        print(f"De-quantising {gguf.name} to fp32 once (about a minute); later loads use the cache.")
    started = time.time()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The weights are plain fp32 now: drop the GGUF marker so the folder loads as a normal checkpoint.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.config.name_or_path = "HuggingFaceTB/SmolLM2-135M-Instruct (de-quantised from Q4_1 GGUF)"
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    source = {"gguf": gguf.name, "sha256": digest, "seconds": round(time.time() - started, 1)}
    (folder / "source.json").write_text(json.dumps(source, indent=2), encoding="utf-8")


def load_smollm2_tokenizer(folder: Path | None = None):
    """SmolLM2's tokenizer (transformers), with its chat template, from the cache `folder` (verified
    and built if needed when not given)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder or smollm2_dequantized_dir())


def load_smollm2_reference(device: torch.device | str | None = None):
    """transformers' `LlamaForCausalLM` with SmolLM2-135M-Instruct's de-quantised fp32
    weights (eval mode), and its tokenizer."""
    from transformers import AutoModelForCausalLM

    folder = smollm2_dequantized_dir()
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    if device is not None:
        model.to(device)
    return model, load_smollm2_tokenizer(folder)


def load_smollm2(device: torch.device | str | None = None, dtype: torch.dtype = torch.float32):
    """Our from-scratch `Llama` with SmolLM2-135M-Instruct's weights (eval mode), and the
    tokenizer. Reads the cached safetensors directly: no transformers model is built."""
    from ..io import read_safetensors
    from .llama import Llama, LlamaConfig, load_hf_state_dict

    folder = smollm2_dequantized_dir()
    config = LlamaConfig.from_hf(json.loads((folder / "config.json").read_text(encoding="utf-8")))
    with torch.device("meta"):
        model = Llama(config)  # no time spent on random init: every tensor comes from the file
    model = model.to_empty(device="cpu")
    if config.tie_embeddings:
        model.lm_head.weight = model.tok_emb.weight
    load_hf_state_dict(model, read_safetensors(folder / "model.safetensors", _rebuild_cache_fix(folder)))
    model = model.to(dtype).eval()
    if device is not None:
        model.to(device)
    return model, load_smollm2_tokenizer(folder)
