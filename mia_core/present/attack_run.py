"""A finished attack job's result, read once for a page: the table's rows, the ROC curves, each record's member
probability per attack, the per-record CSV and the JSON the HTML report is built from."""

from dataclasses import dataclass

import numpy as np

from ..experiment.reproduce import csv_text
from ..metrics import RocCurve, most_exposed
from .tables import record_arrays, result_rows, roc_curves


@dataclass(frozen=True)
class AttackRun:
    """One attack run on one stored target."""

    number: int  # this session's run number, from 1
    target: str
    gap: float  # the target's train minus test accuracy
    rows: list[dict]  # one per attack, the CSV's columns (`result_rows`)
    curves: dict[str, RocCurve]
    index: np.ndarray  # the scored records' dataset indices
    is_member: np.ndarray
    probabilities: dict[str, np.ndarray]  # attack -> each scored record's member probability
    record_scores: str  # one CSV row per scored record
    json: dict  # the run's JSON without the per-record rows

    @classmethod
    def from_result(cls, result: dict, *, number: int, target: str) -> "AttackRun":
        index, is_member, probabilities = record_arrays(result)
        return cls(number=number, target=target, gap=result["gap"], rows=result_rows(result, run=number, target=target),
                   curves=roc_curves(result), index=index, is_member=is_member, probabilities=probabilities,
                   record_scores=csv_text(result["scores"]), json={k: v for k, v in result.items() if k != "scores"})

    def exposed(self, attack: str, k: int = 10) -> np.ndarray:
        """Positions (into `index`) of the k members `attack` is surest about, surest first."""
        return most_exposed(self.probabilities[attack], self.is_member, k)
