"""The loaders return the real data sets with the sizes their sources document."""

from bigmodel_lib import data


def test_tiny_shakespeare():
    assert len(data.load_tiny_shakespeare()) == 1_115_394


def test_sms_spam_counts():
    sms = data.load_sms_spam()
    assert len(sms) == 5574
    assert (sms["label"] == "spam").sum() == 747


def test_sentiment_sentences_survive_unbalanced_quotes():
    sentences = data.load_sentiment_sentences()
    assert len(sentences) == 3000
    assert sentences.groupby("domain").size().to_dict() == {"amazon": 1000, "imdb": 1000, "yelp": 1000}
    assert set(sentences["label"]) == {0, 1}


def test_fsdd_table():
    recordings = data.fsdd_recordings()
    assert len(recordings) == 3000
    assert recordings["speaker"].nunique() == 6
    assert recordings["digit"].nunique() == 10


def test_digits_and_reference_text():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert len(data.python_reference_text()) > 300_000


def test_pretrained_models_ship_with_packages():
    assert (data.minilm_dir() / "tokenizer.json").is_file()
    assert data.smollm2_gguf().name == "SmolLM2-135M-Instruct.Q4_1.gguf"
