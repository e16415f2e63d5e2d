"""Training pipeline: data -> windows -> Lightning -> artifact -> backtest -> MLflow registry."""
