"""Work on the model store, each a call to the run (`experiment.run`) plus what it keeps: train and store a target, attack a
stored target, keep a brought model, build the demo models, load a target with its fitted attacks.

The orchestration runs one way: the service submits jobs, a job's task (`jobs.tasks`, the `*_job` functions)
reads its parameters and calls one function here or in `experiment.run`, and the run runs the stages (training,
attacks, metrics). Pages never call this module: they go through the service."""

from dataclasses import dataclass, replace

import numpy as np

from ..attacks import AttackData, MembershipAttack, make_attack
from ..config import ExperimentConfig, preset
from ..data import Digits, to_model_input
from ..experiment.run import (ExperimentResult, TargetRun, brought_target, needs_references, reads_labels, run_attacks,
                       run_experiment, train_references_for, train_shadows, train_target)
from ..experiment.references import ReferenceSet
from ..progress import ProgressFn, no_progress
from ..training import predict_logits
from .store import ModelStore

DEMO = {"demo-overfit": "overfit", "demo-defended": "defended"}  # store name -> preset
SHADOW_ATTACKS = ("shadow", "loss", "confidence", "entropy", "modified_entropy")
REFERENCE_ATTACKS = ("lira_online", "lira_offline", "rmia")
# demo-overfit: 48 of the overfit preset's 64, so that the shipped models stay within 25 MB (a LeNet's weights
# are 0.25 MB); demo-defended: 2, its target is 30 times larger
DEMO_REFERENCES = {"demo-overfit": 48, "demo-defended": 2}


def demo_configs(*, small: bool = False) -> dict[str, ExperimentConfig]:
    """The demo's two targets, attacked by every attack (and the seed's in-sample fit, shown beside them
    for the comparison with the seed). `small` is a seconds-long version for tests and slow machines."""
    configs = {name: replace(preset(p), attacks=SHADOW_ATTACKS + REFERENCE_ATTACKS + ("seed_in_sample",),
                             references=DEMO_REFERENCES[name]) for name, p in DEMO.items()}
    if small:
        configs = {name: replace(cfg.with_train(epochs=min(cfg.train.epochs, 10)), train_size=min(cfg.train_size, 500),
                                 shadows=2, references=2) for name, cfg in configs.items()}
    return configs


def train_and_store(store: ModelStore, name: str, cfg: ExperimentConfig, digits: Digits, *,
                    overwrite: bool = False, progress: ProgressFn = no_progress) -> TargetRun:
    """Train a target and keep it. The store is written only once training has finished; a bad name,
    a shipped model's name or (unless `overwrite`) a stored model's name fails before training."""
    store.check_writable(name, overwrite=overwrite)
    target = train_target(cfg, digits, progress=progress)
    store.save(name, target, None, digits=digits)
    return target


def attack_stored(store: ModelStore, name: str, digits: Digits, *, shadows: int, attacks: tuple[str, ...],
                  references: int = 16, progress: ProgressFn = no_progress, trainer=None) -> ExperimentResult:
    """Attack a stored target with `shadows` shadow models and, for LiRA / RMIA, `references`
    reference models; both are reused from the store when it has as many, else trained and kept."""
    target, stored_shadows = store.load(name, digits)
    stored_refs = store.load_references(name, digits)
    cfg = replace(target.config, shadows=shadows, attacks=attacks, references=references)
    target = replace(target, config=cfg)
    missing_answers = reads_labels(attacks) and stored_shadows is not None and stored_shadows.data.label_answers is None
    if stored_shadows is None or len(stored_shadows.models) != shadows or missing_answers:
        stored_shadows = train_shadows(cfg, digits, target.splits, progress=progress, trainer=trainer)
    if needs_references(attacks) and (stored_refs is None or len(stored_refs.models) != references):
        stored_refs = train_references_for(target, digits, progress=progress, trainer=trainer)
    runs = run_attacks(target, stored_shadows, digits, attacks, references=stored_refs, progress=progress,
                       trainer=trainer)
    seconds = {"target": target.seconds, "shadows": stored_shadows.seconds,
               "attacks": sum(r.seconds for r in runs.values())}
    result = ExperimentResult(cfg, digits.source, target, stored_shadows, runs, seconds, stored_refs)
    if store.is_shipped(name):  # shipped models stay as built; what was trained for them is not kept
        return result
    store.save(name, target, stored_shadows, digits=digits, metrics=result.to_json()["attacks"], references=stored_refs,
               brought=store.meta(name).get("brought"))
    return result


def brought_config(guess: str, *, arch: str, members: int | None) -> ExperimentConfig:
    """How the attacker trains shadow and reference models for a model brought from elsewhere: like preset
    `guess`, with its architecture, and on as many digits as its training set when that is known."""
    cfg = replace(preset(guess).with_train(arch=arch), shadows=4, references=8,
                  attacks=SHADOW_ATTACKS + REFERENCE_ATTACKS)
    return cfg if members is None else replace(cfg, train_size=members)


def keep_brought(store: ModelStore, name: str, cfg: ExperimentConfig, digits: Digits, model, members: np.ndarray | None,
                 *, about: dict, overwrite: bool = False, progress: ProgressFn = no_progress, trainer=None) -> dict:
    """A model trained elsewhere, kept under `name` with the attacker's shadow and reference models, so the
    Membership page can query it. With its `members`, every attack is also measured on it (with intervals);
    without them it stays a black box. `about`: its file's name and SHA-256, kept in the metadata."""
    store.check_writable(name, overwrite=overwrite)
    target = brought_target(cfg, digits, model, np.zeros(0, np.int64) if members is None else members,
                            weights=about["file"])
    if members is not None:
        result = run_experiment(cfg, digits, progress=progress, trainer=trainer, target=target)
        metrics = result.to_json()["attacks"]
        store.save(name, target, result.shadows, digits=digits, metrics=metrics, references=result.references,
                   brought=about)
        return {"name": name, "members_known": True, "test_accuracy": target.test_accuracy,
                "train_accuracy": target.train_accuracy, "attacks": metrics}
    shadows = train_shadows(cfg, digits, target.splits, progress=progress, trainer=trainer)
    references = train_references_for(target, digits, progress=progress, trainer=trainer)
    store.save(name, target, shadows, digits=digits, references=references, brought=about)
    return {"name": name, "members_known": False, "test_accuracy": target.test_accuracy}


def build_demo(store: ModelStore, digits: Digits, *, progress: ProgressFn = no_progress,
               configs: dict[str, ExperimentConfig] | None = None, trainer=None) -> dict[str, ExperimentResult]:
    """Both demo targets with their shadows and attacks, stored under the DEMO names."""
    configs = configs or demo_configs()
    results = {}
    for name, cfg in configs.items():
        train_and_store(store, name, cfg, digits, overwrite=True, progress=progress)
        results[name] = attack_stored(store, name, digits, shadows=cfg.shadows, attacks=cfg.attacks,
                                      references=cfg.references, progress=progress, trainer=trainer)
    return results


@dataclass(frozen=True)
class LoadedTarget:
    name: str
    target: TargetRun
    attacks: dict[str, MembershipAttack]  # fitted on the stored shadow / reference outputs; no in-sample fit
    references: ReferenceSet | None = None
    population_logits: np.ndarray | None = None  # the target on the references' population samples

    def reference_query(self, digits: Digits, *, index: int | None = None, image: np.ndarray | None = None):
        """The references' view of one digit: a pool record by `index`, or a new `image` [28, 28]."""
        if self.references is None:
            return None
        if index is not None and np.isin(index, self.references.index):
            return self.references.query(np.array([index]), self.population_logits)
        x = to_model_input((digits.images[index] if image is None else image)[None])
        return self.references.query_new(x, self.population_logits)


def loaded_from_result(name: str, result: ExperimentResult, digits: Digits) -> LoadedTarget:
    """The same as `load_with_attacks` after saving `result`, without fitting the attacks again."""
    attacks = {a: run.attack for a, run in result.attacks.items() if run.attack.needs != "target_membership"}
    population = None
    if result.references is not None:
        population = predict_logits(result.target.model, digits.tensors(result.references.population_index)[0])
    return LoadedTarget(name, result.target, attacks, result.references, population)


def load_with_attacks(store: ModelStore, name: str, digits: Digits) -> LoadedTarget:
    """A stored target and its attacks, refitted on the stored shadow and reference outputs (deterministic)."""
    target, shadows = store.load(name, digits)
    references = store.load_references(name, digits)
    population = None
    if references is not None:
        population = predict_logits(target.model, digits.tensors(references.population_index)[0])
    return LoadedTarget(name, target, fit_attacks(shadows.data if shadows else None, references), references,
                        population)


def fit_attacks(shadow_data: AttackData | None, references: ReferenceSet | None) -> dict[str, MembershipAttack]:
    """Every attack a query can use, fitted on the shadow models' outputs and the reference models'."""
    attacks = {a: make_attack(a).fit(shadow_data) for a in SHADOW_ATTACKS} if shadow_data is not None else {}
    if references is not None:
        attacks |= {a: make_attack(a).fit(references.data) for a in REFERENCE_ATTACKS}
    return attacks
