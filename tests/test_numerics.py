"""The forward pass's arithmetic setting: subnormal floats read as zero while it runs, and only then."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from models.loading import load_artifact
from models.numerics import subnormals_as_zero
from training.pyfunc_model import ForecasterPyfunc


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


def test_the_pyfunc_model_forecasts_with_subnormals_as_zero(tiny_base: Path) -> None:
    """`mlflow models serve` runs the same forward pass as the service, with the same setting."""
    model = ForecasterPyfunc()
    model.artifact = load_artifact(tiny_base)
    seen = []
    predict = model.artifact.predict

    def recording(*args: object, **kwargs: object) -> object:
        seen.append(subnormal_product())
        return predict(*args, **kwargs)

    model.artifact.predict = recording  # type: ignore[method-assign]
    history = [float(value) for value in 100 + 5 * np.sin(np.arange(40) * 2 * np.pi / 4)]
    answer = model.predict(None, pd.DataFrame({"history": [history]}), {"horizon": 3, "season": 4})  # type: ignore[arg-type]
    assert seen == [0.0] and len(answer["forecast"][0]) == 3
    assert subnormal_product() > 0.0
