"""DP-SGD through Opacus: Poisson-sampled batches, per-sample clipping, Gaussian noise, an RDP accountant."""

import warnings

import torch

from ..config import TrainConfig


def make_private(cfg: TrainConfig, model, opt, x, y, seed: int):
    """The model, optimiser and loader wrapped by Opacus, and its engine (which reports the epsilon spent)."""
    from opacus import PrivacyEngine

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=cfg.batch_size,
                                         generator=torch.Generator().manual_seed(seed))
    with warnings.catch_warnings():  # Opacus warns that secure_mode is off: fine for a demonstration
        warnings.simplefilter("ignore")
        engine = PrivacyEngine(accountant="rdp")
        if cfg.dp_epsilon is not None:
            model, opt, loader = engine.make_private_with_epsilon(
                module=model, optimizer=opt, data_loader=loader, target_epsilon=cfg.dp_epsilon,
                target_delta=cfg.dp_delta, epochs=cfg.epochs, max_grad_norm=cfg.dp_max_grad_norm)
        else:
            model, opt, loader = engine.make_private(
                module=model, optimizer=opt, data_loader=loader, noise_multiplier=cfg.dp_noise,
                max_grad_norm=cfg.dp_max_grad_norm)
    return model, opt, loader, engine
