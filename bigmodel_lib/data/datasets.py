"""Loaders that turn registered files into the tables and strings the chapters use."""

from __future__ import annotations

import re
from pathlib import Path

from .fetch import fetch, fetch_file

SENTIMENT_DOMAINS = {"imdb": "imdb_labelled.txt", "amazon": "amazon_cells_labelled.txt", "yelp": "yelp_labelled.txt"}
FSDD_NAME = re.compile(r"(?P<digit>\d)_(?P<speaker>[a-z]+)_(?P<index>\d+)\.wav$")


def load_tiny_shakespeare() -> str:
    """Tiny Shakespeare as one string (1,115,394 characters)."""
    return fetch_file("tinyshakespeare").read_text(encoding="utf-8")


def load_sms_spam():
    """UCI SMS Spam Collection as a DataFrame with columns `label` ('ham'/'spam') and `text`."""
    import pandas as pd

    rows = []
    for line in fetch_file("sms_spam_collection").read_text(encoding="utf-8").split("\n"):
        if line.strip():
            label, text = line.split("\t", 1)
            rows.append((label, text))
    return pd.DataFrame(rows, columns=["label", "text"])


def load_sentiment_sentences(domains: tuple[str, ...] = ("imdb", "amazon", "yelp")):
    """The 3,000 labelled review sentences: columns `text`, `label` (1 = positive), `domain`.

    Read line by line and split on the last tab: imdb_labelled.txt has unbalanced quotes that
    make a CSV reader merge lines silently.
    """
    import pandas as pd

    folder = fetch("sentiment_labelled_sentences")
    rows = []
    for domain in domains:
        if domain not in SENTIMENT_DOMAINS:
            raise ValueError(f"Unknown domain {domain!r}. Known: {', '.join(SENTIMENT_DOMAINS)}.")
        for line in (folder / SENTIMENT_DOMAINS[domain]).read_text(encoding="utf-8").split("\n"):
            if line.strip():
                text, label = line.rsplit("\t", 1)
                rows.append((text.strip(), int(label), domain))
    return pd.DataFrame(rows, columns=["text", "label", "domain"])


def fsdd_recordings():
    """The Free Spoken Digit Dataset as a table: `path`, `digit`, `speaker`, `index` (3,000 rows)."""
    import pandas as pd

    folder = fetch("fsdd") / "recordings"
    rows = []
    for path in sorted(folder.glob("*.wav")):
        match = FSDD_NAME.search(path.name)
        if match:
            rows.append((path, int(match["digit"]), match["speaker"], int(match["index"])))
    return pd.DataFrame(rows, columns=["path", "digit", "speaker", "index"])


def load_digits():
    """scikit-learn's 1,797 8x8 digit images: (X of shape (1797, 64) in 0..16, y)."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    return digits.data, digits.target


def python_reference_topics() -> dict[str, str]:
    """Python's reference-manual text, one entry per topic (`pydoc_data.topics`)."""
    from pydoc_data.topics import topics

    return dict(topics)


def python_reference_text() -> str:
    """All of Python's reference-manual topics joined into one text (about 465k characters)."""
    return "\n\n".join(python_reference_topics()[key] for key in sorted(python_reference_topics()))


def minilm_dir() -> Path:
    """Folder with the real all-MiniLM-L6-v2 weights, config and tokenizer (from the installed package)."""
    return fetch_file("minilm").parent


def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct 4-bit GGUF file (from the installed package, sha256-checked)."""
    return fetch_file("smollm2")
