"""Files shared by the runner and its workers: written whole or not at all."""

import json
import os
import threading
import time
from pathlib import Path

from ..progress import Progress


def write_atomically(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None


class FileProgress:
    """A worker's ProgressFn: the job's progress file holds the latest event (written at most every
    `interval` s) and every finished stage (always written), so a reader polling now and then misses no
    stage's end."""

    def __init__(self, path: Path, interval: float = 0.3):
        self.path, self.interval, self._last = path, interval, 0.0
        self.state = {"pid": os.getpid(), "started": time.time(), "finished": []}
        write_atomically(path, self.state)

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        event = {"stage": p.stage, "step": p.step, "total": p.total,
                 "metrics": {k: float(v) for k, v in p.metrics.items()}}
        if p.step >= p.total:
            self.state["finished"].append(event)
        elif now - self._last < self.interval:
            return
        self._last = now
        self.state.update(event)
        write_atomically(self.path, self.state)


def events(state: dict | None) -> tuple[list[Progress], Progress | None]:
    """A progress file's finished stages, and its latest event (None before the first)."""
    if not state:
        return [], None
    finished = [Progress(e["stage"], e["step"], e["total"], e["metrics"]) for e in state.get("finished", [])]
    latest = Progress(state["stage"], state["step"], state["total"], state["metrics"]) if "stage" in state else None
    return finished, latest
