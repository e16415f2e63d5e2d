"""What the training CLI prints, set once per process: the CLI's and every side-by-side
worker's (spawned processes start with Python's defaults)."""

from __future__ import annotations

import logging
import os
import warnings


def configure_output() -> None:
    # MLflow draws a progress bar per artifact download (the pyfunc's input-example check
    # downloads the model it has just logged): noise next to the training bars
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Lightning's per-fit notices (GPU/TPU availability, "fit stopped", a LitLogger advert)
    # repeat twice per model; its warnings still show, and the summary table reports each fit
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
    # raised inside Lightning against this torch version; nothing a user can act on
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")
