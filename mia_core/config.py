"""Typed, validated configurations. A preset is a named `ExperimentConfig`."""

from dataclasses import asdict, dataclass, field, replace

import torch

from .attacks import ATTACKS
from .models import ARCHITECTURES

OPTIMIZERS = ("adam", "sgd")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainConfig:
    """How one LeNet (target or shadow) is trained."""

    arch: str = "lenet5"
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    dropout: float = 0.0  # on the fully connected layers
    weight_decay: float = 0.0  # L2 penalty, applied by the optimiser
    label_smoothing: float = 0.0  # share of each target's probability spread over the other classes
    early_stopping: int = 0  # patience in epochs on a validation split; 0 = train all epochs
    dp_epsilon: float | None = None  # DP-SGD to this target epsilon (Opacus picks the noise); None = no DP
    dp_noise: float | None = None  # or DP-SGD with this noise multiplier; the epsilon spent is reported
    dp_delta: float = 1e-5
    dp_max_grad_norm: float = 1.0  # per-sample gradient clipping norm
    split_models: int = 0  # Split-AI: K sub-models, each member left out of some; 0 = one plain model
    split_held_out: int = 2  # how many sub-models never see each member (they alone answer for it)
    device: str = "auto"  # cuda when present, else cpu

    def __post_init__(self):
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.arch!r}; choose one of {sorted(ARCHITECTURES)}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {list(OPTIMIZERS)}")
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; choose one of {list(DEVICES)}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for but no CUDA device is available")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"learning rate must be positive, got {self.lr}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.weight_decay < 0:
            raise ValueError(f"weight decay must be non-negative, got {self.weight_decay}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.early_stopping < 0:
            raise ValueError(f"early-stopping patience must be non-negative, got {self.early_stopping}")
        if self.dp_epsilon is not None and self.dp_noise is not None:
            raise ValueError("give DP-SGD either a target epsilon or a noise multiplier, not both")
        if self.dp_epsilon is not None and not self.dp_epsilon > 0:
            raise ValueError(f"DP epsilon must be positive, got {self.dp_epsilon}")
        if self.dp_noise is not None and not self.dp_noise > 0:
            raise ValueError(f"DP noise multiplier must be positive, got {self.dp_noise}")
        if not 0 < self.dp_delta < 1:
            raise ValueError(f"DP delta must be in (0, 1), got {self.dp_delta}")
        if not self.dp_max_grad_norm > 0:
            raise ValueError(f"DP clipping norm must be positive, got {self.dp_max_grad_norm}")
        if self.split_models:
            if self.split_models < 2:
                raise ValueError(f"Split-AI needs at least 2 sub-models (or 0 for none), got {self.split_models}")
            if not 1 <= self.split_held_out < self.split_models:
                raise ValueError(f"Split-AI leaves each member out of 1 to {self.split_models - 1} sub-models, "
                                 f"got {self.split_held_out}")
            if self.private or self.early_stopping:
                raise ValueError("Split-AI is not combined with DP-SGD or early stopping here: each sub-model "
                                 "would need its own privacy accounting or validation split")

    @property
    def private(self) -> bool:
        return self.dp_epsilon is not None or self.dp_noise is not None

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


DEFAULT_ATTACKS = ("shadow", "loss", "confidence", "entropy", "modified_entropy", "seed_in_sample")
# The overfit preset adds the attacks that calibrate each record against reference models: the strongest at a low
# false-positive rate. The seed's in-sample fit stays last: it is shown beside them, and it is not an attack.
OVERFIT_ATTACKS = ("shadow", "loss", "confidence", "entropy", "modified_entropy", "lira_online", "lira_offline", "rmia",
                   "seed_in_sample")


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole Shokri et al. experiment: target, shadows, attacks."""

    train_size: int = 500  # target members; each shadow trains on as many (or the most the pool allows)
    shadows: int = 4
    references: int = 16  # reference models for LiRA and RMIA (trained only when one of them is asked for)
    seed: int = 0
    attacks: tuple[str, ...] = DEFAULT_ATTACKS
    eval_size: int | None = None  # members scored; None -> min(train_size, 1000)
    # Held-out non-members scored: 1,000 resolve a TPR at 1% FPR (10 false positives).
    non_members: int = 1000
    test_size: int = 1000
    labels_only: bool = False  # the target's API answers with a class only: no confidence to read
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        object.__setattr__(self, "attacks", tuple(self.attacks))
        if self.train_size < 1:
            raise ValueError(f"train size must be at least 1, got {self.train_size}")
        if self.shadows < 1:
            raise ValueError(f"the attack needs at least 1 shadow model, got {self.shadows}")
        if self.references < 2:
            raise ValueError(f"reference attacks need at least 2 reference models, got {self.references}")
        if self.eval_size is not None and not 1 <= self.eval_size <= self.train_size:
            raise ValueError(f"eval size must be between 1 and the train size {self.train_size}, got {self.eval_size}")
        if self.non_members < 2:
            raise ValueError(f"the evaluation needs at least 2 held-out non-members, got {self.non_members}")
        if self.test_size < 1:
            raise ValueError(f"test size must be at least 1, got {self.test_size}")
        if not self.attacks:
            raise ValueError("choose at least one attack")
        unknown = [a for a in self.attacks if a not in ATTACKS]
        if unknown:
            raise ValueError(f"unknown attack {unknown[0]!r}; choose from {sorted(ATTACKS)}")
        if self.labels_only and not any(ATTACKS[a]().reads == "labels" for a in self.attacks):
            raise ValueError("the target answers with labels only, so none of the chosen attacks can run: "
                             "add label_only")

    @property
    def eval_members(self) -> int:
        return self.eval_size if self.eval_size is not None else min(self.train_size, 1000)

    @property
    def validation_size(self) -> int:
        """The defender's validation split for early stopping (none without it)."""
        return max(100, self.train_size // 10) if self.train.early_stopping else 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ExperimentConfig":
        d = dict(d)
        d["train"] = TrainConfig(**d.get("train", {}))
        return cls(**d)

    def with_train(self, **changes) -> "ExperimentConfig":
        return replace(self, train=replace(self.train, **changes))


PRESETS: dict[str, ExperimentConfig] = {
    # A small training set, long training, no regularisation, no augmentation: memorises its members, and still
    # classifies about 4 in 5 unseen digits right. LeNet-5 with tanh, as LeCun et al. built it: 100 members, 150 epochs
    # of Adam, train accuracy 100%, test about 0.8. 64 reference models, side by side, for online LiRA and RMIA: each
    # scored record (100 members, 1,000 non-members) is in about 6 of them. tanh bounds what a model can say about a
    # record it trained on, so models that trained on it agree closely, and that closeness is what LiRA reads.
    "overfit": ExperimentConfig(train_size=100, shadows=8, references=64, attacks=OVERFIT_ATTACKS,
                                train=TrainConfig(arch="lenet5_tanh", epochs=150)),
    # A larger training set with dropout and L2: generalises, so members look like everyone else. 3,900 members, the
    # most the embedded data's attacker pool lets shadow models match (each keeps 200 non-members), and 40 epochs:
    # test accuracy 0.970 on seed 123, where 3,000 members for 20 epochs reached 0.962.
    "defended": ExperimentConfig(
        train_size=3900, shadows=4,
        train=TrainConfig(epochs=40, dropout=0.3, weight_decay=1e-3)),
    # The overfit preset's 200 members, defended by Split-AI: 20 sub-models, each member left out of 4,
    # which alone answer for it. 40 epochs: a sub-model fits its 160 members well before that.
    "split": ExperimentConfig(
        train_size=200, shadows=4, train=TrainConfig(epochs=40, split_models=20, split_held_out=4)),
    # DP-SGD at epsilon 3 (delta 1e-5); the shadows are trained the same way. 4,000 members, so that shadow
    # models can train on as many from the embedded data's attacker pool (6,000 reached 92.5% test accuracy,
    # 4,000 reach 91.0%). 500 non-members: a TPR at 1% FPR is then unresolved, and reported as such.
    # tanh: 92.5% test accuracy where ReLU reached 89.6% at the same epsilon (6,000 members).
    "dp": ExperimentConfig(
        train_size=4000, shadows=2, non_members=500, test_size=500,
        train=TrainConfig(arch="lenet5_tanh", epochs=20, batch_size=256, lr=3e-3, dp_epsilon=3.0)),
}


def preset(name: str) -> ExperimentConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]
