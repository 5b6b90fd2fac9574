"""Progress reporting: one event type, so the CLI (tqdm), the app and the tests share a code path."""

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
