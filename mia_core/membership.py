"""One digit in, the target's prediction and every attack's member probability out."""

from dataclasses import dataclass

import numpy as np
from scipy.special import softmax
from torch import nn

from .attacks import MembershipAttack
from .data import to_model_input
from .preprocess import to_mnist
from .training import predict_logits


@dataclass(frozen=True)
class MembershipReport:
    image: np.ndarray  # uint8 [28, 28]: what the model saw
    probabilities: np.ndarray  # [10] softmax of the target's logits
    label: int  # the class the attacks condition on (given, else the prediction)
    member_probability: dict[str, float]  # attack name -> P(member)

    @property
    def predicted(self) -> int:
        return int(self.probabilities.argmax())


def query(model: nn.Module, image: np.ndarray, attacks: dict[str, MembershipAttack], *,
          label: int | None = None) -> MembershipReport:
    """`image` is a uint8 [28, 28] MNIST digit. Without `label`, attacks use the predicted class."""
    logits = predict_logits(model, to_model_input(image[None]))  # -> [1, 10]
    label = int(logits.argmax()) if label is None else int(label)
    labels = np.array([label])
    probs = {name: float(a.score(logits, labels)[0]) for name, a in attacks.items()}
    return MembershipReport(image, softmax(logits[0]), label, probs)


def membership_report(canvas: np.ndarray | None, model: nn.Module, attacks: dict[str, MembershipAttack], *,
                      label: int | None = None) -> MembershipReport:
    """A drawing (any size, RGBA/RGB/grey) -> preprocessing -> `query`. Raises EmptyDrawing on a blank canvas."""
    return query(model, to_mnist(canvas), attacks, label=label)
