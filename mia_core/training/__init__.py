"""Training: the loop (`loop.py`) and its optimiser step (`optimizer.py`), DP-SGD (`dp.py`), Split-AI (`split.py`),
many models at once (`stacked.py`, `pool.py`, `many.py`) and asking a trained model (`inference.py`)."""

from .inference import accuracy, predict_logits
from .loop import EpochStats, train_model

__all__ = ["EpochStats", "accuracy", "predict_logits", "train_model"]
