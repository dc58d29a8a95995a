"""The jupyter-server extension: REST API under ``/mlops/api/`` and background upkeep."""
