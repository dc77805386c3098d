"""Chapter 06's names for training `TextClassifier`; the loop itself lives in `training.classifier`."""

from .classifier import accuracy, classifier_loss, fit, predict  # noqa: F401 (re-exported)
