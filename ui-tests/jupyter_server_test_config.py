"""Server configuration for the jupyter-mlops Galata integration tests.

Started by Playwright's webServer through ``jlpm start``:

    jupyter lab --config jupyter_server_test_config.py

Never use this configuration in production: it removes all security protections.
"""

import os
import tempfile

from jupyterlab.galata import configure_jupyter_server

# Keep the extension's run store and artifacts out of the user's real data dir.
os.environ["JUPYTER_MLOPS_DATA_DIR"] = tempfile.mkdtemp(prefix="jupyter-mlops-uitest-")

configure_jupyter_server(c)  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821

# Uncomment to set server log level to debug level
# c.ServerApp.log_level = "DEBUG"
