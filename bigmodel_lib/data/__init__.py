"""Data: the registry of data sets and models, fetching with checksums, and loaders."""

from .datasets import (
    fsdd_recordings,
    load_digits,
    load_sentiment_sentences,
    load_sms_spam,
    load_tiny_shakespeare,
    minilm_dir,
    python_reference_text,
    python_reference_topics,
    smollm2_gguf,
)
from .fetch import DataUnavailableError, availability, fetch, fetch_file, sha256_of, verify
from .registry import DataSet, get, registry

__all__ = [
    "DataSet",
    "DataUnavailableError",
    "availability",
    "fetch",
    "fetch_file",
    "fsdd_recordings",
    "get",
    "load_digits",
    "load_sentiment_sentences",
    "load_sms_spam",
    "load_tiny_shakespeare",
    "minilm_dir",
    "python_reference_text",
    "python_reference_topics",
    "registry",
    "sha256_of",
    "smollm2_gguf",
    "verify",
]
