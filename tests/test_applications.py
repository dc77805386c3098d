"""The MiniLM classifier of chapter 10: trains on real SMS messages, and mean pooling ignores padding."""

import numpy as np
import pandas as pd
import pytest
import torch

from bigmodel_lib.applications import MiniLMClassifier, classify, finetune_classifier


@pytest.fixture(scope="module")
def sms():
    from bigmodel_lib.data import load_sms_spam

    try:
        df = load_sms_spam()
    except Exception as exc:
        pytest.skip(f"SMS Spam Collection not available: {exc}")
    both = pd.concat([df[df.label == "spam"].iloc[:48], df[df.label == "ham"].iloc[:48]])
    return both.text.tolist(), (both.label == "spam").astype(int).tolist()


def test_finetuning_lowers_the_loss_and_padding_does_not_matter(sms):
    texts, labels = sms
    torch.manual_seed(0)
    model = MiniLMClassifier(n_classes=2)
    losses = finetune_classifier(model, texts, labels, steps=12, batch_size=16, lr=1e-4, progress=False)
    assert np.mean(losses[-4:]) < np.mean(losses[:4])
    preds = classify(model, texts, batch_size=96)
    assert preds.shape == (96,) and (preds == np.array(labels)).mean() > 0.7
    # a message classified alone or in a padded batch gets the same logits
    alone = classify(model, texts[:1], batch_size=1)
    assert alone[0] == preds[0]
