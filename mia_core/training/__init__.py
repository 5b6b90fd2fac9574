"""Training: the loop (`loop.py`) and its optimiser step (`optimizer.py`), DP-SGD (`dp.py`), Split-AI (`split.py`),
one model of any kind (`train.py`), many models at once (`stacked.py`, `pool.py`, `many.py`), asking a trained model
(`inference.py`) and a label-only attacker's altered copies of a record (`altered_copies.py`).
Nothing here imports the job runner (`mia_core.jobs`): `.importlinter` says so."""

from .inference import accuracy, predict_logits
from .loop import EpochStats
from .train import train_model

__all__ = ["EpochStats", "accuracy", "predict_logits", "train_model"]
