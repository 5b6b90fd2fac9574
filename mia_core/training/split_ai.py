"""Split-AI (Tang et al. 2022, "Mitigating Membership Inference Attacks by Self-Distillation
Through a Novel Ensemble Architecture", the first half of SELENA).

K sub-models, each trained without a share of the members: every member is left out of
exactly `held_out` of them. A query that is a member is answered by the average of the
sub-models that never saw it; any other query by `held_out` sub-models picked by a hash of
the input. Either way the answer comes from models that did not train on that record, so a
member's output is distributed like a non-member's.

What it defends, and what not: it needs the exact training records to route a query, so it
is a black-box API defence. A slightly altered copy of a member (a shifted digit) is routed
as a non-member and answered partly by sub-models that trained on it. The routing table holds
fingerprints of the members, so the weights file itself must stay private. SELENA's second
half, distilling the ensemble into one model, did not hold the attacks near chance on the
200-member target here (loss AUC 0.58-0.59), so it is not offered.
"""

import numpy as np
import torch
from torch import nn

_PRIME = 2**31 - 1  # modulus of the hash that picks a non-member's sub-models
_SCALE = 4096  # inputs are fingerprinted after rounding to 1/4096


def split_assignment(n: int, *, models: int, held_out: int, seed: int) -> np.ndarray:
    """excluded [K, N]: True where sub-model k never sees member n. Each member is left out of
    `held_out` sub-models, those with the fewest exclusions so far, so every sub-model misses
    n * held_out / K members, give or take one. Ties are broken at random, unlike a fixed round
    robin, which would give whole groups of sub-models the very same training set."""
    rng = np.random.default_rng([seed, 5])
    excluded = np.zeros((models, n), bool)
    for member in rng.permutation(n):
        chosen = np.lexsort((rng.random(models), excluded.sum(1)))[:held_out]  # fewest first, random ties
        excluded[chosen, member] = True
    return excluded


def fingerprint(x: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
    """An exact-match key per image: x [B, 1, 28, 28] -> [B] int64. A random linear hash of the
    rounded pixels; |pixel| * 4096 * 2**20 * 784 stays far below 2**63, so nothing overflows."""
    q = torch.round(x.flatten(1) * _SCALE).long()  # -> [B, 784]
    return (q * coefficients).sum(1)


class SplitAI(nn.Module):
    """The Split-AI ensemble as one module: forward(x [B, 1, 28, 28]) -> log-probabilities [B, C]
    (log-probabilities are valid logits: their softmax is the averaged probabilities)."""

    def __init__(self, models: list[nn.Module], *, held_out: int, members: int, seed: int = 0):
        super().__init__()
        if not 1 <= held_out < len(models):
            raise ValueError(f"Split-AI leaves each member out of 1 to {len(models) - 1} of its "
                             f"{len(models)} sub-models, not {held_out}")
        self.models = nn.ModuleList(models)
        self.held_out = held_out
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("coefficients", torch.randint(1, 2**20, (28 * 28,), generator=g))
        self.register_buffer("route_a", torch.randint(1, _PRIME, (len(models),), generator=g))
        self.register_buffer("route_b", torch.randint(0, _PRIME, (len(models),), generator=g))
        self.register_buffer("fingerprints", torch.zeros(members, dtype=torch.long))  # [N]
        self.register_buffer("excluded", torch.zeros(len(models), members, dtype=torch.bool))  # [K, N]

    def remember(self, x: torch.Tensor, excluded: np.ndarray) -> "SplitAI":
        """Record the members x [N, 1, 28, 28] and which sub-models never saw each (excluded [K, N])."""
        self.fingerprints = fingerprint(x.to(self.coefficients.device), self.coefficients)
        self.excluded = torch.as_tensor(excluded, device=self.coefficients.device)
        return self

    def routes(self, x: torch.Tensor) -> torch.Tensor:
        """Which sub-models answer each query: [B, K] bool."""
        key = fingerprint(x, self.coefficients)  # -> [B]
        match = key[:, None] == self.fingerprints[None, :]  # -> [B, N]
        as_member = (match.float() @ self.excluded.T.float()) > 0  # -> [B, K]
        score = (key[:, None] % _PRIME * self.route_a + self.route_b) % _PRIME  # -> [B, K], < 2**62
        picked = score.topk(self.held_out, dim=1, largest=False).indices
        as_other = torch.zeros_like(as_member).scatter_(1, picked, True)
        return torch.where(match.any(1, keepdim=True), as_member, as_other)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = torch.stack([m(x).softmax(1) for m in self.models])  # -> [K, B, C]
        weights = self.routes(x).T.float()  # -> [K, B]
        mean = (weights[..., None] * probs).sum(0) / weights.sum(0)[:, None]  # -> [B, C]
        return mean.clamp_min(1e-12).log()
