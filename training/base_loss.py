"""The base network's training loss, shared by pretraining (`training.pretrain`) and
fine-tuning (`training.finetune`), so a fine-tuned model keeps optimising what the base was
pretrained for."""

from __future__ import annotations

import torch

from models.base_network import BaseNetwork, normalise_window

# Normalised targets beyond this many mean absolute steps from the level (a flat context
# before a jump, an intermittent series waking up) are clipped so one window cannot swamp a batch.
TARGET_CLIP = 50.0


def base_window_loss(
    network: BaseNetwork, history: torch.Tensor, target: torch.Tensor, season: torch.Tensor
) -> torch.Tensor:
    """L1 in each window's normalised space (a per-window MASE) over the targets a window has:
    history [B, L] NaN-padded on the left, target [B, H] NaN where a step has no value, season [B]."""
    window = normalise_window(history, season, network.config.context_length)
    normalised_target = window.normalise(target).clamp(-TARGET_CLIP, TARGET_CLIP)
    present = torch.isfinite(normalised_target)
    errors = torch.where(present, (network(window) - normalised_target).abs(), 0.0)
    return errors.sum() / present.sum().clamp_min(1)
