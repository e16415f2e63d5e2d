"""The base network's training loss, shared by pretraining (`training.pretrain`) and
fine-tuning (`training.finetune`), so a fine-tuned model keeps optimising what the base was
pretrained for."""

from __future__ import annotations

import torch

from models.base_network import BaseNetwork
from models.window import normalise_window

# Normalised targets beyond this many mean absolute steps from the level (a flat context
# before a jump, an intermittent series waking up) are clipped so one window cannot swamp a batch.
TARGET_CLIP = 50.0
# a window's errors count in units of its seasonal step (MASE's), at least this share of its
# mean absolute step, so a window whose seasons repeat almost exactly cannot swamp a batch
MIN_SEASONAL_STEP = 0.2


def base_window_loss(
    network: BaseNetwork,
    history: torch.Tensor,
    target: torch.Tensor,
    season: torch.Tensor,
    seasonal: bool = True,
    candidates: tuple[torch.Tensor, torch.Tensor | None] | None = None,
) -> torch.Tensor:
    """L1 over the targets a window has, in units of each window's seasonal step (a per-window
    MASE, what the benchmark scores) - with `seasonal` off, of its mean absolute step: history
    [B, L] NaN-padded on the left, target [B, H] NaN where a step has no value, season [B].
    `candidates`: the windows' `BaseNetwork.candidates`, when already computed."""
    window = normalise_window(history, season, network.config.context_length)
    normalised_target = window.normalise(target).clamp(-TARGET_CLIP, TARGET_CLIP)
    present = torch.isfinite(normalised_target)
    forecast = network.forecast_and_spread(window, candidates)[0]
    errors = torch.where(present, (forecast - normalised_target).abs(), 0.0)
    if seasonal:
        errors = errors / window.seasonal_step().clamp_min(MIN_SEASONAL_STEP)
    return errors.sum() / present.sum().clamp_min(1)
