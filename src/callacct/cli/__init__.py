"""The command-line interface: the only package that prints."""

from __future__ import annotations

import gc
import os
import sys

# Each command's module is imported when the command is looked up (`_app.COMMAND_MODULES`).
from callacct.cli._app import app


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        # The reader went away (`callacct ... | head`): not an error worth a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    finally:
        # The command is done, its files and the store closed: Python's last collection of
        # every object still alive as the process exits would only cost time (a fifth of a
        # second after an ingest); the system takes the memory back.
        gc.freeze()


__all__ = ["app", "main"]
