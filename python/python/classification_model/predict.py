"""The course's module: ``from classification_model.predict import make_prediction``."""

from ._api import make_prediction

__all__ = ["make_prediction"]
