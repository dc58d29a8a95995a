"""``jupyter mlops db upgrade | current``: the run store's schema."""

from __future__ import annotations

from .base import EXIT_OK, CommandGroupApp, MLOpsBaseApp


class DbUpgradeApp(MLOpsBaseApp):
    name = "jupyter-mlops-db-upgrade"
    description = "Apply the run store's migrations (also done automatically on start)."

    def run(self) -> int:
        from ..store.engine import current_revision, make_engine, upgrade

        engine = make_engine(self.settings.resolved_db_url)
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
        print(f"run store {engine.url.render_as_string(hide_password=True)}: {before} -> {after}")
        return EXIT_OK


class DbCurrentApp(MLOpsBaseApp):
    name = "jupyter-mlops-db-current"
    description = "Print the run store's schema revision."

    def run(self) -> int:
        from ..store.engine import current_revision, make_engine

        print(current_revision(make_engine(self.settings.resolved_db_url)) or "(empty)")
        return EXIT_OK


class DbApp(CommandGroupApp):
    name = "jupyter-mlops-db"
    description = "Run store maintenance."
    subcommands = {
        "upgrade": (DbUpgradeApp, DbUpgradeApp.description),
        "current": (DbCurrentApp, DbCurrentApp.description),
    }
