"""FastAPI forecasting service: loads registered forecasters and answers `POST /forecast`."""
