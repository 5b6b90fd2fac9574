"""Progress reporting: one event type, so the CLI (tqdm), the app and the tests share a code path."""

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    stage: str  # "target", "shadow 2/8", "attack: loss", ...
    step: int  # 1-based
    total: int
    metrics: dict = field(default_factory=dict)  # e.g. {"loss": 0.12, "test_accuracy": 0.95}


ProgressFn = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    pass


class TqdmProgress:
    """A `ProgressFn` that shows one tqdm bar per stage on stderr; where stderr is no terminal (a log
    file), one line per finished stage instead of hundreds of carriage-return redraws."""

    def __init__(self, *, disable: bool = False):
        self.disable = disable
        self.plain = not sys.stderr.isatty()
        self._bar = None
        self._stage = None

    def __call__(self, p: Progress) -> None:
        if self.plain:
            if not self.disable and p.step >= p.total:
                shown = ", ".join(f"{k} {v:.4g}" for k, v in p.metrics.items())
                print(f"{p.stage}: done" + (f" ({shown})" if shown else ""), file=sys.stderr, flush=True)
            return
        from tqdm import tqdm

        if p.stage != self._stage:
            self.close()
            self._stage = p.stage
            self._bar = tqdm(total=p.total, desc=p.stage, leave=False, disable=self.disable)
        if p.metrics:
            self._bar.set_postfix({k: round(v, 4) for k, v in p.metrics.items()}, refresh=False)
        self._bar.update(p.step - self._bar.n)  # redraws at most every `mininterval` seconds
        if p.step >= p.total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar, self._stage = None, None


STAGE_WORDS = {"target": "Training the target", "shadow": "Training shadow model", "reference":
               "Training reference model", "attacks": "Running the attacks", "audit target":
               "Training the target with canaries", "target with your digits": "Training a target with your digits"}
_NUMBERED = re.compile(r"^(?P<kind>[a-z ]+?) (?P<k>\d+)/(?P<n>\d+)$")


def stage_in_words(stage: str) -> str:
    """'shadow 2/8' -> 'Training shadow model 2 of 8'; 'shadow 1/8 + shadow 2/8' -> 'Training shadow models 1-2
    of 8'; an unknown stage as it is, capitalised."""
    parts = [_NUMBERED.match(s.strip()) for s in stage.split(" + ")]
    if len(parts) > 1 and all(parts) and len({p["kind"] for p in parts}) == 1:
        words = STAGE_WORDS.get(parts[0]["kind"], parts[0]["kind"].capitalize())
        return f"{words}s {parts[0]['k']}-{parts[-1]['k']} of {parts[0]['n']}"
    if len(parts) == 1 and parts[0]:
        return f"{STAGE_WORDS.get(parts[0]['kind'], parts[0]['kind'].capitalize())} {parts[0]['k']} of {parts[0]['n']}"
    return STAGE_WORDS.get(stage, stage[:1].upper() + stage[1:])


def in_words(p: Progress) -> str:
    """A progress event as a person reads it: the stage, how far it is, and its figures rounded for people
    (accuracies in whole percent, epsilon to 2 decimals; no losses)."""
    unit = "attack" if p.stage == "attacks" else "epoch"
    words = [stage_in_words(p.stage), f"{unit} {p.step} of {p.total}"]
    m = p.metrics
    if "train_acc" in m:
        words.append(f"training accuracy {m['train_acc']:.0%}")
    if m.get("test_acc") is not None:
        words.append(f"test accuracy {m['test_acc']:.0%}")
    if m.get("epsilon") is not None:
        words.append(f"privacy spent ε = {m['epsilon']:.2f}")
    return " · ".join(words)
