"""What the app's pages (and scripts) do in one call: train-and-store, attack a stored
target, build the demo models, load a target with its fitted attacks."""

from dataclasses import dataclass, replace

from .attacks import MembershipAttack, make_attack
from .config import ExperimentConfig, preset
from .data import Digits
from .pipeline import ExperimentResult, TargetRun, run_attacks, train_shadows, train_target
from .progress import ProgressFn, no_progress
from .store import ModelStore

DEMO = {"demo-overfit": "overfit", "demo-defended": "defended"}  # store name -> preset


def demo_configs(*, small: bool = False) -> dict[str, ExperimentConfig]:
    """The demo's two targets. `small` is a seconds-long version for tests and slow machines."""
    configs = {name: preset(p) for name, p in DEMO.items()}
    if small:
        configs = {name: replace(cfg.with_train(epochs=min(cfg.train.epochs, 10)), train_size=min(cfg.train_size, 500),
                                 shadows=2) for name, cfg in configs.items()}
    return configs


def train_and_store(store: ModelStore, name: str, cfg: ExperimentConfig, digits: Digits, *,
                    progress: ProgressFn = no_progress) -> TargetRun:
    """Train a target and keep it. The store is written only once training has finished."""
    store.path(name)  # a bad name fails before the training, not after
    target = train_target(cfg, digits, progress=progress)
    store.save(name, target, None, digits=digits)
    return target


def attack_stored(store: ModelStore, name: str, digits: Digits, *, shadows: int, attacks: tuple[str, ...],
                  progress: ProgressFn = no_progress) -> ExperimentResult:
    """Attack a stored target with `shadows` shadow models (reused from the store when it has them)."""
    target, stored_shadows = store.load(name, digits)
    cfg = replace(target.config, shadows=shadows, attacks=attacks)
    target = replace(target, config=cfg)
    if stored_shadows is None or len(stored_shadows.models) != shadows:
        stored_shadows = train_shadows(cfg, digits, target.splits, progress=progress)
    runs = run_attacks(target, stored_shadows, digits, attacks, progress=progress)
    seconds = {"target": target.seconds, "shadows": stored_shadows.seconds,
               "attacks": sum(r.seconds for r in runs.values())}
    result = ExperimentResult(cfg, digits.source, target, stored_shadows, runs, seconds)
    store.save(name, target, stored_shadows, digits=digits, metrics=result.to_json()["attacks"])
    return result


def build_demo(store: ModelStore, digits: Digits, *, progress: ProgressFn = no_progress,
               configs: dict[str, ExperimentConfig] | None = None) -> dict[str, ExperimentResult]:
    """Both demo targets with their shadows and attacks, stored under the DEMO names."""
    configs = configs or demo_configs()
    results = {}
    for name, cfg in configs.items():
        train_and_store(store, name, cfg, digits, progress=progress)
        results[name] = attack_stored(store, name, digits, shadows=cfg.shadows, attacks=cfg.attacks, progress=progress)
    return results


@dataclass(frozen=True)
class LoadedTarget:
    name: str
    target: TargetRun
    attacks: dict[str, MembershipAttack]  # fitted on the stored shadow outputs; no oracle


def load_with_attacks(store: ModelStore, name: str, digits: Digits,
                      attacks: tuple[str, ...] = ("shadow", "loss", "confidence", "entropy", "modified_entropy")
                      ) -> LoadedTarget:
    """A stored target and its attacks, refitted on the stored shadow outputs (deterministic)."""
    target, shadows = store.load(name, digits)
    if shadows is None:
        return LoadedTarget(name, target, {})
    return LoadedTarget(name, target, {a: make_attack(a).fit(shadows.data) for a in attacks})
