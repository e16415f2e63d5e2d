"""The forward pass's arithmetic setting: subnormal floats read as zero while it runs, and only then."""

from __future__ import annotations

import torch

from service.forecasting import subnormals_as_zero


def subnormal_product() -> float:
    return float(torch.tensor([1e-39]) * 1.0)


def test_subnormals_read_as_zero_only_inside_the_forward_pass() -> None:
    """The base's fits of very regular series make float32 values below 1e-38, which cost CPU
    arithmetic many times over (serving.md, session 21). The setting is the thread's processor
    state: left on, it would change what an embedding application - or Hypothesis, which
    refuses to run - computes afterwards."""
    assert subnormal_product() > 0.0
    with subnormals_as_zero():
        assert subnormal_product() == 0.0
    assert subnormal_product() > 0.0
