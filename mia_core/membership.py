"""One digit in, the target's prediction and every attack's member probability out."""

from dataclasses import dataclass

import numpy as np
from scipy.special import softmax
from torch import nn

from .attacks import MembershipAttack, ReferenceQuery
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
          label: int | None = None, reference: ReferenceQuery | None = None) -> MembershipReport:
    """`image` is a uint8 [28, 28] MNIST digit. Without `label`, attacks use the predicted class.
    Reference attacks (LiRA, RMIA) are scored only when `reference` gives their models' view."""
    logits = predict_logits(model, to_model_input(image[None]))  # -> [1, 10]
    label = int(logits.argmax()) if label is None else int(label)
    labels = np.array([label])
    probs = {name: float(a.score(logits, labels, reference)[0]) for name, a in attacks.items()
             if a.needs != "references" or reference is not None}
    return MembershipReport(image, softmax(logits[0]), label, probs)


def membership_report(canvas: np.ndarray | None, model: nn.Module, attacks: dict[str, MembershipAttack], *,
                      label: int | None = None, reference_of=None) -> MembershipReport:
    """A drawing (any size, RGBA/RGB/grey) -> preprocessing -> `query`. Raises EmptyDrawing on a blank canvas.
    `reference_of(image)` gives the reference models' view of the 28x28 image, for LiRA and RMIA."""
    image = to_mnist(canvas)
    return query(model, image, attacks, label=label, reference=reference_of(image) if reference_of else None)
