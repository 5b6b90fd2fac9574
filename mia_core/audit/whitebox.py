"""White-box one-run audit of DP-SGD with Dirac gradient canaries (Steinke, Nasr & Jagielski 2023, white-box
setting).

Canary i is the clipping norm C times a unit vector on a coordinate of its own among the model's weights. Each
canary is in the run with probability 1/2; one that is in is sampled at every step with DP-SGD's sampling rate,
like a record, and when sampled, its gradient is added to the sum of clipped per-example gradients before the
noise, as a sampled record's is. Opacus's optimiser does everything else (clipping, noise, the accountant); the
audit only wraps its noise step (`DPOptimizer.add_noise`), which sees the clipped sum before and the noisy sum
after.

The auditor sees every step's noisy sum, the update DP-SGD releases, and, as DP's worst case assumes, knows
every record but the canaries: it takes from each step's update, on a canary's coordinate, the data's own
clipped sum there (read before the canaries go in), which leaves, in units of C, x = (1 if the canary was sampled
this step) + noise multiplier x N(0, 1). Its score for the canary is the sum over the steps of the log likelihood
ratio of that step's x, log(1 - q + q exp((2x - 1) / (2 sigma^2))) at sampling rate q and noise multiplier sigma:
the most powerful test between "in" and "out" (Neyman-Pearson) for each step. The coordinates are those the
data's own gradients touch least (measured at the initial weights, before any canary is drawn), so that the
canaries change the training little.

How many guesses to make is planned before training from the mechanism alone (sampling rate, steps, noise
multiplier): the count whose f-DP bound would be largest if the scores were Gaussians as far apart as the
central limit theorem puts them. One count, fixed in advance: no multiple-testing correction is needed.
"""

import copy
import math
import time
import warnings

import numpy as np
import torch
from scipy.optimize import brentq
from scipy.special import ndtr
from torch.nn import functional as F

from ..config import ExperimentConfig
from ..data import Digits
from ..experiment.run import split_for
from ..models import build_model
from ..progress import Progress, ProgressFn, no_progress
from ..training import accuracy
from ..training.dp import make_private
from .bounds import gdp_epsilon, mu_lower_bound
from .guesses import AuditResult, judge

WHITE_BOX_CANARIES = 5000  # a one-run bound grows with the canaries; these take 1 in 12 of LeNet-5's weights
PLANNED_SHARES = (0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)  # guess counts the plan weighs


def canary_coordinates(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, count: int) -> np.ndarray:
    """The `count` coordinates of the model's flattened parameters (in `parameters()` order) where the gradient
    of the mean loss on (x, y) is smallest in size, ascending."""
    total = sum(p.numel() for p in model.parameters())
    if count > total // 2:
        raise ValueError(f"{count:,} gradient canaries asked for, but the model has only {total:,} weights; "
                         f"at most {total // 2:,} canaries, so that they keep to the weights the data touch least")
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    size = torch.cat([p.grad.reshape(-1).abs() for p in model.parameters()])
    model.zero_grad(set_to_none=True)
    return np.sort(np.argsort(size.numpy(), kind="stable")[:count])


def expected_separation(sample_rate: float, steps: int, noise_multiplier: float) -> float:
    """How far apart, in standard deviations, an inserted and a left-out canary's scores are expected to be, by the
    central limit theorem for the summed log likelihood ratios: q sqrt(T (e^(1/sigma^2) - 1)) (Bu, Dong, Long & Su
    2020, for T steps at sampling rate q and noise multiplier sigma)."""
    return sample_rate * math.sqrt(steps * math.expm1(1 / noise_multiplier ** 2))


def step_log_likelihood_ratio(x: np.ndarray, sample_rate: float, noise_multiplier: float) -> np.ndarray:
    """log of the density of x under "in" (sampled with probability q: 1 + sigma N(0, 1)) over "out" (sigma N(0, 1))."""
    return np.logaddexp(math.log1p(-sample_rate),
                        math.log(sample_rate) + (2 * x - 1) / (2 * noise_multiplier ** 2))


def planned_guesses(canaries: int, separation: float, *, delta: float, confidence: float) -> int:
    """The guess count (half "in", half "out") whose f-DP bound is largest if scores are N(separation, 1) for the
    canaries that are in and N(0, 1) for those out, at the expected count right."""
    def expected_right(guesses: int) -> int:
        share = guesses / 2 / canaries  # guessed "in", from the top of the mixture
        t = brentq(lambda t: (ndtr(-t) + ndtr(separation - t)) / 2 - share, -40, 40)
        return min(guesses, round(canaries * ndtr(separation - t)))  # right "in" guesses, and as many "out" ones

    best, plan = -1.0, 2
    for share in PLANNED_SHARES:
        guesses = max(2, 2 * round(share * canaries / 2))
        mu = mu_lower_bound(canaries=canaries, guesses=guesses, correct=expected_right(guesses),
                            confidence=confidence)
        if (bound := gdp_epsilon(mu, delta)) > best:
            best, plan = bound, guesses
    return plan


class CanaryNoise:
    """Wraps a DPOptimizer's noise step: before it, each inserted canary sampled this step adds C on its
    coordinate to the clipped sum (whose value there, the data's, is kept); after it, each canary's coordinate of
    the noisy sum, less the data's, in units of C, adds its log likelihood ratio to the canary's score."""

    def __init__(self, optimizer, coordinates: np.ndarray, inserted: np.ndarray, sample_rate: float,
                 rng: np.random.Generator):
        self.optimizer, self.inserted, self.sample_rate, self.rng = optimizer, inserted, sample_rate, rng
        self.clip, self.noise_multiplier = optimizer.max_grad_norm, optimizer.noise_multiplier
        self.scores = np.zeros(len(coordinates))
        self.steps = 0
        self.parts = []  # (parameter, its local coordinates, which canaries)
        offset = 0
        for p in optimizer.params:
            here = np.flatnonzero((coordinates >= offset) & (coordinates < offset + p.numel()))
            if len(here):
                self.parts.append((p, torch.as_tensor(coordinates[here] - offset), here))
            offset += p.numel()
        self._add_noise = optimizer.add_noise
        optimizer.add_noise = self.add_noise

    def add_noise(self) -> None:
        sampled = self.inserted & (self.rng.random(len(self.inserted)) < self.sample_rate)
        data = {}
        for p, local, which in self.parts:
            flat = p.summed_grad.view(-1)
            data[id(p)] = flat[local].detach().cpu().double().numpy()
            flat[local] += torch.as_tensor(self.clip * sampled[which], dtype=flat.dtype, device=flat.device)
        self._add_noise()
        for p, local, which in self.parts:
            x = (p.grad.reshape(-1)[local].detach().cpu().double().numpy() - data[id(p)]) / self.clip
            self.scores[which] += step_log_likelihood_ratio(x, self.sample_rate, self.noise_multiplier)
        self.steps += 1


def run_white_box_audit(cfg: ExperimentConfig, digits: Digits, *, count: int = WHITE_BOX_CANARIES,
                        confidence: float = 0.95, progress: ProgressFn = no_progress) -> AuditResult:
    """Train the target of `cfg` (DP-SGD) once with `count` gradient canaries and bound its epsilon from below."""
    train = cfg.train
    if not train.private:
        raise ValueError("a white-box audit inserts canaries into DP-SGD's noisy gradient sum; this configuration "
                         "trains without DP (use the black-box audit, or set a DP epsilon or noise multiplier)")
    if train.split_models or train.early_stopping:
        raise ValueError("the white-box audit trains a plain DP-SGD model for all its epochs: no Split-AI or early "
                         "stopping")
    if count < 10:
        raise ValueError(f"an audit needs at least 10 canaries, got {count}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    start = time.perf_counter()
    device = train.resolved_device()
    splits = split_for(cfg, digits)
    x, y = (t.to(device) for t in digits.tensors(splits.members))
    torch.manual_seed(cfg.seed)  # weights and DP noise, as `train_model` seeds them
    model = build_model(train.arch, dropout=train.dropout).to(device)
    coordinates = canary_coordinates(copy.deepcopy(model), x, y, count)
    inserted = np.random.default_rng([cfg.seed, 12]).random(count) < 0.5
    opt_cls = torch.optim.Adam if train.optimizer == "adam" else torch.optim.SGD
    opt = opt_cls(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
    model, opt, loader, engine = make_private(train, model, opt, x, y, cfg.seed)
    rate, steps = loader.sample_rate, train.epochs * len(loader)
    guesses = planned_guesses(count, expected_separation(rate, steps, opt.noise_multiplier), delta=train.dp_delta,
                              confidence=confidence)
    canary_noise = CanaryNoise(opt, coordinates, inserted, rate, np.random.default_rng([cfg.seed, 13]))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        for epoch in range(1, train.epochs + 1):
            model.train()
            for xb, yb in loader:
                if len(yb) == 0:  # Poisson sampling can draw an empty batch
                    continue
                loss = F.cross_entropy(model(xb), yb, label_smoothing=train.label_smoothing)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            progress(Progress("white-box audit target", epoch, train.epochs, {"epsilon": engine.get_epsilon(
                train.dp_delta)}))
    plain = getattr(model, "_module", model).eval()
    judged = judge(canary_noise.scores, inserted, (guesses,), delta=train.dp_delta, confidence=confidence,
                   accountant_epsilon=engine.get_epsilon(train.dp_delta))
    test = digits.tensors(splits.test)
    return AuditResult(kind="white-box", **judged,
                       signal=f"log likelihood ratio of each step's noisy gradient sum on the canary's coordinate, "
                              f"less the data's clipped sum there, summed over {canary_noise.steps} steps (sampling "
                              f"rate {rate:.4f}, noise multiplier {opt.noise_multiplier:.3f})",
                       train_accuracy=accuracy(plain, x.cpu(), y.cpu()), test_accuracy=accuracy(plain, *test),
                       seconds=time.perf_counter() - start)
