"""What the model-worker server (`executors.model_worker_context`) imports before it forks any worker: this module
alone. Importing it loads torch and the training code, then trains one tiny LeNet-5 on one thread, alone and in a
pair (`training/stacked.py`), so that oneDNN compiles its convolution and pooling kernels once, there, and every
worker forked afterwards starts with them. In a fresh process the first model otherwise trains about a second slower
than the next. It also fits and measures one tiny attack, as
a worker does a run's attacks (`experiment.run.attack_run`): that loads scikit-learn and SciPy (about 0.8 s), beside the
command's own imports rather than after its models.

One thread for each thread pool (torch's, and those of the BLAS and OpenMP libraries under numpy, SciPy and
scikit-learn), set before any of them loads: the server then never starts a thread pool (a forked child of a process
with a running OpenMP pool can hang), and neither does a worker.

The garbage collector is off while the imports run (they make some 200,000 objects, and each collection would walk
them), and what the server then holds is frozen: no collection in it or in a forked worker walks those objects
again, so more of their pages stay shared between the server and its workers.
"""

import gc
import os

from .executors import ONE_THREAD_ENV, one_thread_each  # no numpy or torch yet

gc.disable()
os.environ.update(ONE_THREAD_ENV)  # before numpy, SciPy, scikit-learn and torch load their libraries

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ..attacks import AttackData  # noqa: E402
from ..config import TrainConfig  # noqa: E402
from ..experiment.run import HeldOut, attack_run  # noqa: E402
from . import model_pool  # noqa: E402, F401  (what a model worker runs)
from ..training.inference import predict_logits  # noqa: E402
from ..training.train import train_model  # noqa: E402
from ..training.stacked import train_stacked  # noqa: E402
from . import tasks  # noqa: E402, F401  (what a job's worker runs)

WARM_UP_RECORDS = 72  # one batch of 64 and the 8 left over: the overfit preset's batch shapes (200 = 3 x 64 + 8)


def warm_up() -> None:
    one_thread_each()
    x, y = torch.zeros(WARM_UP_RECORDS, 1, 28, 28), torch.arange(WARM_UP_RECORDS) % 10
    cfg = TrainConfig(epochs=1, device="cpu")
    model, _ = train_model(cfg, x, y, seed=0)
    train_stacked(cfg, [(x, y), (x, y)], [0, 1])
    logits = predict_logits(model, x)  # -> [72, 10]
    member = np.arange(WARM_UP_RECORDS) % 2 == 0
    records = HeldOut(np.arange(WARM_UP_RECORDS), member, logits, y.numpy(), None, None, seed=0)
    attack_run("shadow", AttackData(logits, y.numpy(), member), records)


warm_up()
gc.freeze()
gc.enable()
