"""The Titanic ``classification_model``, trained and embedded in Rust.

>>> from classification_model.predict import make_prediction   # the course's call
>>> from classification_model import predict, predict_arrow     # DataFrame, Arrow

See ``fields()`` for what each column takes, and ``model_card()`` for how the
model was made.
"""

# The course's module `classification_model.predict` is loaded first, so that
# the name `predict` below is the function: a later
# `from classification_model.predict import make_prediction` finds the module
# in sys.modules and leaves the package's attribute alone. The function also
# answers `.make_prediction`, for `import classification_model.predict as p`.
from . import predict as _course_module  # noqa: F401  (loads the submodule)
from ._api import (
    ValidationError,
    fields,
    make_prediction,
    model_card,
    model_version,
    predict,
    predict_arrow,
)

predict.make_prediction = make_prediction  # type: ignore[attr-defined]

__version__: str = model_version()

__all__ = [
    "ValidationError",
    "__version__",
    "fields",
    "make_prediction",
    "model_card",
    "model_version",
    "predict",
    "predict_arrow",
]
