"""Imported by the model-worker server (`jobs.executors.model_worker_context`) before it forks a worker: importing
this module trains one tiny LeNet-5 on one thread, so that oneDNN compiles its convolution and pooling kernels
once, there, and every worker forked afterwards starts with them. In a fresh process the first model otherwise
trains about a second slower than the next (on the 2-vCPU machine the README's figures come from).

One torch thread before any torch op: the server then never starts a thread pool, and a forked child of a process
with a running OpenMP pool can hang.
"""

import torch

from ..config import TrainConfig
from .inference import predict_logits
from .loop import train_model

WARM_UP_RECORDS = 72  # one batch of 64 and the 8 left over: the overfit preset's batch shapes (200 = 3 x 64 + 8)


def warm_up() -> None:
    torch.set_num_threads(1)
    x, y = torch.zeros(WARM_UP_RECORDS, 1, 28, 28), torch.arange(WARM_UP_RECORDS) % 10
    model, _ = train_model(TrainConfig(epochs=1, device="cpu"), x, y, seed=0)
    predict_logits(model, x)


warm_up()
