"""MLP, CNN and recurrent classifiers: PyTorch and Keras twins agree on size; FLOPs; training works."""

import pytest
import torch

from bigmodel_lib.models.fitting import accuracy, count_parameters, fit_classifier, forward_flops, recurrent_flops
from bigmodel_lib.models.sequence import BagOfEmbeddings, RecurrentClassifier, SimpleVocab, pad_sequences
from bigmodel_lib.models.vision import MLPClassifier, SmallCNN, digits_tensors


def test_vocab_and_front_padding():
    vocab = SimpleVocab.build(["Good food, good place.", "bad food"], min_freq=2)
    assert vocab.itos[:2] == ["<pad>", "<unk>"] and "good" in vocab.stoi and "bad" not in vocab.stoi
    ids = pad_sequences([vocab.encode("good bad"), [5, 6, 7, 8, 9]], max_len=4)
    assert ids.tolist() == [[0, 0, vocab.stoi["good"], 1], [6, 7, 8, 9]]


def test_single_bias_freezes_redundant_recurrent_bias():
    m = RecurrentClassifier("lstm", vocab_size=50, embed_dim=8, hidden=16)
    assert not m.rnn.bias_hh_l0.requires_grad and torch.all(m.rnn.bias_hh_l0 == 0)
    both = RecurrentClassifier("lstm", vocab_size=50, embed_dim=8, hidden=16, single_bias=False)
    assert count_parameters(both) - count_parameters(m) == 4 * 16


@pytest.mark.parametrize("kind", ["rnn", "gru"])
def test_recurrent_flops_formula_matches_counter(kind):
    m = RecurrentClassifier(kind, vocab_size=50, embed_dim=8, hidden=16)
    ids = torch.randint(1, 50, (3, 5))
    head = 3 * 2 * 16 * 2
    assert forward_flops(m, ids) == 3 * recurrent_flops(kind, 8, 16, 5) + head


def test_lstm_flops_added_by_hook():
    m = RecurrentClassifier("lstm", vocab_size=50, embed_dim=8, hidden=16)
    assert forward_flops(m, torch.randint(1, 50, (2, 7))) == 2 * recurrent_flops("lstm", 8, 16, 7) + 2 * 2 * 16 * 2


def test_cnn_flops_counted():
    m = SmallCNN()
    conv = 2 * 9 * (1 * 16 * 64 + 16 * 32 * 16)
    assert forward_flops(m, torch.zeros(1, 1, 8, 8)) == conv + 2 * 128 * 10


def test_parameter_counts_match_keras():
    keras = pytest.importorskip("keras")
    from bigmodel_lib.keras_models.sequence import keras_bag_of_embeddings, keras_recurrent_classifier
    from bigmodel_lib.keras_models.vision import keras_mlp, keras_small_cnn

    pairs = [
        (MLPClassifier(64, (128,)), keras_mlp(64, (128,))),
        (SmallCNN(8), keras_small_cnn(8)),
        (SmallCNN(28), keras_small_cnn(28)),
        (BagOfEmbeddings(300, 32, 64), keras_bag_of_embeddings(300, 32, 64)),
    ]
    pairs += [(RecurrentClassifier(k, 300, 32, 64), keras_recurrent_classifier(k, 300, 32, 64)) for k in ("rnn", "lstm", "gru")]
    for torch_model, keras_model in pairs:
        assert count_parameters(torch_model) == keras_model.count_params(), keras_model.name
    assert keras.__version__


def test_cnn_learns_digits():
    torch.manual_seed(0)
    x_tr, y_tr, x_te, y_te = digits_tensors()
    assert x_tr.shape[1:] == (1, 8, 8) and len(x_tr) + len(x_te) == 1797
    model = SmallCNN()
    history = fit_classifier(model, x_tr, y_tr, epochs=4, batch_size=32)
    assert history["loss"][-1] < history["loss"][0]
    assert accuracy(model, x_te, y_te) > 0.85
