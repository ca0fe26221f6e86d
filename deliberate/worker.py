"""The RQ worker of the production shape: ``rq worker --worker-class deliberate.worker.Worker``.

It builds the app once per worker process, from the same environment as the site, and runs every
job inside its app context; the embedding model, once loaded, stays for the worker's life
(``SimpleWorker`` runs jobs in this process rather than a fork per job). Job functions therefore
never import the app factory, so services can name them without importing every blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from rq import SimpleWorker


class Worker(SimpleWorker):
    def __init__(self, *args: Any, app: Flask | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._app = app

    @property
    def app(self) -> Flask:
        if self._app is None:
            from deliberate import create_app

            self._app = create_app()
        return self._app

    def perform_job(self, *args: Any, **kwargs: Any) -> bool:
        with self.app.app_context():
            return bool(super().perform_job(*args, **kwargs))
