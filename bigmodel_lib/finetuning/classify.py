"""Fine-tuning a pretrained encoder for text classification: data splits, strategies, training,
saving and a `predict` helper that takes raw strings.

    splits = sms_splits()                                  # deduplicated, stratified, fixed seed
    enc, tok = load_encoder("hf")                          # or "ours" (chapter 05's BERT)
    model = EncoderClassifier(enc, n_classes=2)
    configure(model, "lora", r=8, alpha=16)                # probe | last_n | full | lora
    data = tokenize_texts(tok, splits.train.text)          # list of token-id lists
    report = train_classifier(model, data, splits.train.label, epochs=1, lr=1e-3)
    logits = predict_logits(model, tokenize_texts(tok, splits.test.text))

The encoder can be `transformers`' BertModel (or a `peft` model wrapping it) or our
from-scratch `bigmodel_lib.models.bert.Bert`: `EncoderClassifier` mean-pools either.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.splits import TextSplits, make_splits, sentiment_splits, sms_splits  # noqa: F401 (re-exported)
from ..evaluation.baselines import tfidf_baseline  # noqa: F401 (re-exported)
from ..models.bert import mean_pool
from ..training.batches import length_batches, pad_batch
from ..training.classifier import train_step
from ..training.memory import PeakMemory, SavedActivations, adamw_state_mib
from ..training.schedules import LinearWarmupDecay
from .budget import FinetunePlan, course_plan  # noqa: F401 (re-exported)
from .lora import apply_lora, merge_lora, parameter_counts
from .strategies import freeze_all, train_head_only, unfreeze_last_layers

# --- data ---------------------------------------------------------------------------------


# --- encoders -----------------------------------------------------------------------------


def load_encoder(kind: str = "hf", device: torch.device | str | None = None):
    """The pretrained all-MiniLM-L6-v2 encoder and a tokenizer function.

    kind "hf": `transformers.AutoModel` (BertModel); "ours": chapter 05's from-scratch BERT.
    Returns (encoder, tokenizer) where `tokenizer(texts, max_length)` gives token-id lists.
    """
    from ..data import minilm_dir

    if kind == "hf":
        import transformers

        enc = transformers.AutoModel.from_pretrained(str(minilm_dir()))
    elif kind == "ours":
        from ..models.bert import load_minilm

        enc, _ = load_minilm()
    else:
        raise ValueError(f"Unknown encoder kind {kind!r}: use 'hf' or 'ours'.")
    if device is not None:
        enc.to(device)
    return enc, WordPieceTokenizer(minilm_dir() / "tokenizer.json")


class WordPieceTokenizer:
    """MiniLM's WordPiece tokenizer (the `tokenizers` library) returning unpadded id lists."""

    def __init__(self, path: Path | str):
        from tokenizers import Tokenizer

        self.path = Path(path)
        self.tok = Tokenizer.from_file(str(path))
        self.tok.no_padding()
        self.tok.no_truncation()
        self.pad_id = self.tok.token_to_id("[PAD]") or 0

    def __call__(self, texts: Iterable[str], max_length: int = 64) -> list[list[int]]:
        if max_length < 2:
            raise ValueError(f"max_length must be at least 2 tokens ([CLS] and [SEP]), got {max_length}.")
        ids = [e.ids for e in self.tok.encode_batch([str(t) for t in texts])]
        # keep [CLS] ... and end with [SEP] when truncating
        return [x if len(x) <= max_length else x[: max_length - 1] + x[-1:] for x in ids]


def tokenize_texts(tokenizer: WordPieceTokenizer, texts: Iterable[str], max_length: int = 64) -> list[list[int]]:
    return tokenizer(texts, max_length)


# --- the model ------------------------------------------------------------------------------


class EncoderClassifier(nn.Module):
    """Pretrained encoder → mean pooling over real tokens → dropout → linear head (n_classes)."""

    def __init__(self, encoder: nn.Module, n_classes: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        width = _hidden_size(encoder)
        self.head = nn.Linear(width, n_classes)
        self.n_classes = n_classes

    def hidden_states(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # (B, T, C)
        out = self.encoder(input_ids=ids, attention_mask=mask) if _is_hf(self.encoder) else self.encoder(ids, mask)
        return out.last_hidden_state if hasattr(out, "last_hidden_state") else out

    def embed(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # (B, C)
        return mean_pool(self.hidden_states(ids, mask), mask)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # (B, n_classes)
        return self.head(self.dropout(self.embed(ids, mask)))


def _is_hf(encoder: nn.Module) -> bool:
    return hasattr(encoder, "config") and hasattr(encoder.config, "to_dict")


def _hidden_size(encoder: nn.Module) -> int:
    cfg = encoder.config
    return int(getattr(cfg, "hidden_size", None) or cfg.n_embd)


def _encoder_layers(encoder: nn.Module) -> nn.ModuleList:
    """The list of transformer blocks, for HF BertModel, a peft wrapper, or our Bert."""
    for name in ("layers", "encoder.layer", "base_model.model.encoder.layer"):
        try:
            mod = encoder.get_submodule(name)
        except AttributeError:
            continue
        if isinstance(mod, nn.ModuleList):
            return mod
    raise ValueError("Could not find the encoder's list of layers (expected `layers` or `encoder.layer`).")


STRATEGIES = ("probe", "last_n", "full", "lora")


def configure(model: EncoderClassifier, strategy: str, last_n: int = 2, r: int = 8, alpha: float = 16.0,
              target_modules: Sequence[str] = ("query", "value"), dropout: float = 0.0) -> EncoderClassifier:
    """Choose what trains: the head always; plus nothing (probe), the last N blocks, everything,
    or rank-r LoRA adapters on `target_modules` (our from-scratch LoRA)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown strategy {strategy!r}; choose one of {STRATEGIES}.")
    for p in model.parameters():
        p.requires_grad_(True)
    if strategy != "full":
        train_head_only(model)
    if strategy == "last_n":
        unfreeze_last_layers(_encoder_layers(model.encoder), last_n)
    if strategy == "lora":
        apply_lora(model.encoder, target_modules=target_modules, r=r, alpha=alpha, dropout=dropout)
    return model


def peft_lora(model: EncoderClassifier, r: int = 8, alpha: float = 16.0,
              target_modules: Sequence[str] = ("query", "value"), dropout: float = 0.0) -> EncoderClassifier:
    """The same adapters through Hugging Face `peft` (HF encoder only); the head stays trainable."""
    import peft

    cfg = peft.LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(target_modules))
    model.encoder = peft.get_peft_model(model.encoder, cfg)
    for p in model.head.parameters():
        p.requires_grad_(True)
    return model


# --- measuring --------------------------------------------------------------------------------


# --- training and inference ---------------------------------------------------------------------


@dataclass
class TrainReport:
    steps: int
    seconds: float
    peak_mib: float          # measured: CUDA allocator peak, or RSS growth on CPU
    activation_mib: float    # largest step's saved activations
    state_mib: float         # weights + gradients + AdamW's two moments (float32)
    losses: list[float]
    trainable: int
    total: int

    @property
    def training_mib(self) -> float:
        """Weights + gradients + optimizer state + activations: the memory a step needs."""
        return self.state_mib + self.activation_mib


def train_classifier(model: EncoderClassifier, ids: Sequence[Sequence[int]], labels, *, epochs: float = 1.0,
                     steps: int | None = None, lr: float = 1e-4, batch_size: int = 16, weight_decay: float = 0.01, warmup: float = 0.1,
                     device: torch.device | str = "cpu", seed: int = 0, pad_id: int = 0,
                     progress: bool = True, desc: str = "train") -> TrainReport:
    """AdamW on the trainable parameters, linear warm-up then linear decay, gradient clipping at 1.

    `epochs` may be fractional (e.g. 0.5 = half the batches); `steps`, when given, overrides it,
    so strategies can share one step budget.
    """
    from tqdm.auto import tqdm

    if len(ids) == 0:
        raise ValueError("train_classifier needs at least one text: `ids` is empty.")
    if len(labels) != len(ids):
        raise ValueError(f"train_classifier got {len(ids)} texts but {len(labels)} labels: give one label per text.")
    device = torch.device(device)
    labels = torch.tensor(np.asarray(labels), dtype=torch.long)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("Nothing to train: every parameter is frozen. Call configure() first.")
    counts = parameter_counts(model)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    lengths = [len(s) for s in ids]
    if steps is not None:
        epochs = steps / int(np.ceil(len(ids) / batch_size))
    n_epochs = int(np.ceil(epochs))
    plan = [b for e in range(n_epochs) for b in length_batches(lengths, batch_size, True, seed + e)]
    total = max(1, int(round(epochs * len(plan) / n_epochs)))
    plan = plan[:total]
    warm = max(1, int(warmup * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, LinearWarmupDecay(warm, total))
    model.to(device).train()
    losses: list[float] = []
    acts = SavedActivations()
    with PeakMemory(device) as mem:
        start = time.perf_counter()
        for batch in tqdm(plan, desc=desc, disable=not progress, mininterval=1.0):
            x, mask = pad_batch([ids[i] for i in batch], pad_id)
            with acts.hooks():  # only the forward pass saves tensors for backward
                loss, _ = train_step(model, (x.to(device), mask.to(device)), labels[batch].to(device), opt,
                                     scheduler=sched, clip_norm=1.0)
                losses.append(loss)
            acts.end_step()
        seconds = time.perf_counter() - start
    model.eval()
    state = adamw_state_mib(counts["total"], counts["trainable"])
    return TrainReport(len(plan), seconds, mem.peak_mib, acts.peak_bytes / 2**20, state, losses,
                       counts["trainable"], counts["total"])


@torch.no_grad()
def predict_logits(model: EncoderClassifier, ids: Sequence[Sequence[int]], batch_size: int = 64,
                   device: torch.device | str = "cpu", pad_id: int = 0, progress: bool = False) -> np.ndarray:
    """Logits (N, n_classes) in the original order (batches are formed by length for speed)."""
    from tqdm.auto import tqdm

    model.to(device).eval()
    out = np.zeros((len(ids), model.n_classes), dtype=np.float64)
    for batch in tqdm(length_batches([len(s) for s in ids], batch_size, False), disable=not progress,
                      desc="predict", mininterval=1.0):
        x, mask = pad_batch([ids[i] for i in batch], pad_id)
        out[batch] = model(x.to(device), mask.to(device)).double().cpu().numpy()
    return out


@torch.no_grad()
def embed_texts(model: EncoderClassifier, ids: Sequence[Sequence[int]], batch_size: int = 64,
                device: torch.device | str = "cpu", pad_id: int = 0, progress: bool = False) -> np.ndarray:
    """Mean-pooled sentence embeddings (N, C) from the (frozen) encoder, original order; (0, C) for no texts."""
    from tqdm.auto import tqdm

    model.to(device).eval()
    out = np.zeros((len(ids), model.head.in_features))
    for batch in tqdm(length_batches([len(s) for s in ids], batch_size, False), disable=not progress,
                      desc="embed", mininterval=1.0):
        x, mask = pad_batch([ids[i] for i in batch], pad_id)
        out[batch] = model.embed(x.to(device), mask.to(device)).double().cpu().numpy()
    return out


def fit_probe(model: EncoderClassifier, features: np.ndarray, labels, C: float = 1.0) -> EncoderClassifier:
    """Linear probe: logistic regression on frozen embeddings, copied into the model's head.

    For two classes sklearn learns one weight vector w; the head's logits [0, w·x + b] give the
    same softmax probabilities."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=C, max_iter=3000).fit(features, np.asarray(labels))
    with torch.no_grad():
        w, b = torch.as_tensor(clf.coef_, dtype=model.head.weight.dtype), torch.as_tensor(clf.intercept_)
        if model.n_classes == 2 and w.shape[0] == 1:
            w = torch.cat([torch.zeros_like(w), w])
            b = torch.cat([torch.zeros_like(b), b])
        model.head.weight.copy_(w)
        model.head.bias.copy_(b.to(model.head.bias.dtype))
    freeze_all(model.encoder)
    return model


# --- saving, loading, predicting ----------------------------------------------------------------


SAVE_CLASSIFIER_FIX = ("re-save it with save_classifier(model, tokenizer, folder, classes) "
                       "(the course's spam filter: re-run chapter 08)")


def save_classifier(model: EncoderClassifier, tokenizer: WordPieceTokenizer, folder: Path | str,
                    classes: Sequence[str], max_length: int = 64) -> Path:
    """Write `folder/` whole: model.safetensors (adapters merged in) + config.json + tokenizer.json + manifest.json.

    The folder replaces any previous one as a unit (`bigmodel_lib.io.model_folder_writer`). `model` itself
    is left untouched: the adapters are merged into a copy, so LoRA training can go on after saving.
    """
    import shutil

    from safetensors.torch import save_file

    from ..io import model_folder_writer

    state, enc_cfg = _merged_weights(model)
    meta = {"encoder": enc_cfg, "n_classes": model.n_classes, "classes": list(classes), "max_length": max_length}
    with model_folder_writer(folder) as staging:
        save_file(state, str(staging / "model.safetensors"))
        (staging / "config.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        shutil.copyfile(tokenizer.path, staging / "tokenizer.json")
    return Path(folder)


def _merged_weights(model: EncoderClassifier) -> tuple[dict[str, torch.Tensor], dict]:
    """(plain state dict with the LoRA/peft adapters folded into the weights, encoder config) of a copy of `model`."""
    import copy

    frozen = copy.deepcopy(model)
    encoder = frozen.encoder
    if hasattr(encoder, "merge_and_unload"):  # a peft model: fold the adapters in
        encoder = encoder.merge_and_unload()
        frozen.encoder = encoder
    merge_lora(encoder)
    state = {k: v.detach().cpu().contiguous() for k, v in frozen.state_dict().items()}
    # our LoRALinear keeps the merged weight under `.base.`; store plain Linear names
    state = {k.replace(".base.", "."): v for k, v in state.items() if not k.endswith(("lora_A", "lora_B"))}
    if _is_hf(encoder):
        return state, {"kind": "hf", "config": encoder.config.to_dict()}
    return state, {"kind": "ours", "config": encoder.config.as_dict()}


def load_classifier(folder: Path | str, device: torch.device | str = "cpu"):
    """Rebuild a saved classifier from its folder alone: (model, tokenizer, meta).

    The files are checked against the folder's manifest first; a folder saved before manifests
    existed loads with a warning."""
    from ..io import ModelFolderError, read_safetensors, verify_model_folder

    folder = Path(folder)
    verify_model_folder(folder, SAVE_CLASSIFIER_FIX)
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (folder / name).is_file():
            raise ModelFolderError(f"{folder / name} is missing; {SAVE_CLASSIFIER_FIX}")
    state = read_safetensors(folder / "model.safetensors", SAVE_CLASSIFIER_FIX)
    try:
        meta = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        tokenizer = WordPieceTokenizer(folder / "tokenizer.json")
    except Exception as error:  # json or tokenizers errors
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelFolderError(f"{folder} holds an unreadable config.json or tokenizer.json ({reason}); "
                               f"{SAVE_CLASSIFIER_FIX}") from None
    if meta["encoder"]["kind"] == "hf":
        import transformers

        cfg = transformers.BertConfig.from_dict(meta["encoder"]["config"])
        encoder = transformers.BertModel(cfg, add_pooling_layer=any(k.startswith("encoder.pooler.") for k in state))
    else:
        from ..models.bert import Bert, BertConfig

        encoder = Bert(BertConfig(**meta["encoder"]["config"]))
    model = EncoderClassifier(encoder, meta["n_classes"])
    model.load_state_dict(state, strict=True)
    return model.to(device).eval(), tokenizer, meta


def predict(model: EncoderClassifier, tokenizer: WordPieceTokenizer, texts: Sequence[str] | str,
            classes: Sequence[str], max_length: int = 64, device: torch.device | str = "cpu") -> list[dict]:
    """Raw strings in, one {"text", "label", "confidence"} dict per string out.

    `max_length` (at least 2: [CLS] and [SEP]) is the number of tokens kept per text. An empty or
    whitespace-only text still gets a label (the model's guess from [CLS] [SEP] alone), with one
    warning saying how many there were.
    """
    if isinstance(texts, str):
        texts = [texts]
    blank = sum(not str(t).strip() for t in texts)
    if blank:
        warnings.warn(f"{blank} of {len(texts)} texts are empty or whitespace only: their labels are guesses "
                      "from no words at all.", stacklevel=2)
    logits = predict_logits(model, tokenizer(texts, max_length), device=device)
    probs = torch.softmax(torch.as_tensor(logits), dim=1).numpy()
    return [{"text": t, "label": classes[int(p.argmax())], "confidence": float(p.max())}
            for t, p in zip(texts, probs, strict=True)]


# --- one strategy, end to end ---------------------------------------------------------------


@dataclass
class StrategyResult:
    name: str
    model: EncoderClassifier
    seconds: float          # training wall time (probe: embedding the training set + the fit)
    trainable: int
    total: int
    training_mib: float     # weights + grads + optimizer state + activations
    peak_mib: float         # measured peak (CUDA allocator, or RSS growth on CPU)
    val_logits: np.ndarray
    test_logits: np.ndarray
    losses: list[float]


def run_strategy(strategy: str, encoder: nn.Module, tokens: dict[str, list], labels: dict[str, np.ndarray], *,
                 steps: int, lr: float, batch_size: int = 16, device: torch.device | str = "cpu", seed: int = 0,
                 r: int = 8, alpha: float = 16.0, last_n: int = 2, n_classes: int = 2,
                 progress: bool = True, desc: str | None = None) -> StrategyResult:
    """Fine-tune a fresh copy of `encoder` with `strategy` (probe, last_n, full, lora, peft) on
    `tokens["train"]` for `steps` batches, then predict logits for `val` and `test`."""
    import copy

    torch.manual_seed(seed)
    model = EncoderClassifier(copy.deepcopy(encoder), n_classes)
    if strategy == "probe":
        train_head_only(model)
        with PeakMemory(device) as mem:
            start = time.perf_counter()
            feats = embed_texts(model, tokens["train"], device=device, progress=progress)
            fit_probe(model, feats, labels["train"])
            seconds = time.perf_counter() - start
        counts = parameter_counts(model)
        trainable = model.head.weight.numel() + model.head.bias.numel()
        state = adamw_state_mib(counts["total"], trainable)
        result = StrategyResult(strategy, model, seconds, trainable, counts["total"], state, mem.peak_mib,
                                None, None, [])
    else:
        if strategy == "peft":
            peft_lora(model, r=r, alpha=alpha)
        else:
            configure(model, strategy, last_n=last_n, r=r, alpha=alpha)
        rep = train_classifier(model, tokens["train"], labels["train"], steps=steps, lr=lr, batch_size=batch_size,
                               device=device, seed=seed, progress=progress, desc=desc or strategy)
        result = StrategyResult(strategy, model, rep.seconds, rep.trainable, rep.total, rep.training_mib,
                                rep.peak_mib, None, None, rep.losses)
    result.val_logits = predict_logits(model, tokens["val"], device=device)
    result.test_logits = predict_logits(model, tokens["test"], device=device)
    return result
