"""``jupyter mlops models register | list | show | promote | policy | history | delete |
export | card``: the model registry from the command line.

  jupyter mlops models register RUN_ID model --name churn
  jupyter mlops models promote churn 3 --alias production --validate evaluate.ipynb \\
      --require "eval/loss <= baseline" --require "latency_ms < 50" --wait
  jupyter mlops models export churn@production ./release

``promote`` exits 0 when the alias moved, 1 when the gate refused it (the failing
requirement is named with both values), 2 for bad input. Started without ``--wait``, the
promotion is finished by whoever is alive when its validation runs end: a jupyter server on
the same store, or the next ``jupyter mlops models`` command.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from traitlets import Bool, Int, List, Unicode

from .base import EXIT_FAILED, EXIT_OK, JSON_FLAG, CommandGroupApp, MLOpsBaseApp, fail
from .models_text import format_history, format_model, format_models, format_promotion


class ModelsBaseApp(MLOpsBaseApp):
    """A ``models`` subcommand: registry service, and pending promotions finished first."""

    def registry(self) -> Any:
        from ..registry.gate import finish_pending_promotions
        from ..registry.service import RegistryService

        finish_pending_promotions(self.store)
        return RegistryService(self.settings, self.store)

    def arguments(self, *names: str) -> list[str]:
        if len(self.extra_args) != len(names):
            fail(f"expected {' '.join(names)}, got {self.extra_args or 'nothing'}")
        return list(self.extra_args)

    def version_argument(self, text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            fail(f"VERSION must be a version number from 1, got {text!r}")
        return int(text)


class ModelsRegisterApp(ModelsBaseApp):
    name = "jupyter-mlops-models-register"
    description = (
        "Register a run's model artifact: jupyter mlops models register RUN ARTIFACT --name NAME"
    )
    aliases = {
        **MLOpsBaseApp.aliases,
        "name": "ModelsRegisterApp.model_name",
        "description": "ModelsRegisterApp.model_description",
    }
    flags = dict(JSON_FLAG)
    model_name = Unicode("", help="The registered model's name.").tag(config=True)
    model_description = Unicode("", help="What this version is.").tag(config=True)

    def run(self) -> int:
        from ..registry.views import version_info

        run_id, artifact = self.arguments("RUN_ID", "ARTIFACT_NAME")
        if not self.model_name:
            fail("--name NAME is required (the registered model's name)")
        service = self.registry()
        version = service.register(
            run_id, artifact, self.model_name, actor=self.actor, description=self.model_description
        )
        info = version_info(self.store, self.model_name, version, {}).to_json()
        return self.print_result(info, lambda d: f"registered {d['uri']} (run {d['run_id']})")


class ModelsListApp(ModelsBaseApp):
    name = "jupyter-mlops-models-list"
    description = "List registered models with their aliases."
    flags = dict(JSON_FLAG)

    def run(self) -> int:
        from ..registry.views import model_summary

        self.registry()
        return self.print_result(
            [model_summary(m) for m in self.store.list_models()], format_models
        )


class ModelsShowApp(ModelsBaseApp):
    name = "jupyter-mlops-models-show"
    description = "A model's versions with their aliases, runs and metrics."
    flags = dict(JSON_FLAG)

    def run(self) -> int:
        from ..registry.views import model_detail

        (model,) = self.arguments("NAME")
        self.registry()
        return self.print_result(model_detail(self.store, model), format_model)


class ModelsHistoryApp(ModelsBaseApp):
    name = "jupyter-mlops-models-history"
    description = "Every registration, alias move, promotion and deletion of a model."
    flags = dict(JSON_FLAG)

    def run(self) -> int:
        from ..registry.views import history

        (model,) = self.arguments("NAME")
        self.registry()
        data = history(self.store, model)
        if not data["events"]:
            self.store.require_model(model)  # an unknown name: exit 2
        return self.print_result(data, format_history)


class ModelsPolicyApp(ModelsBaseApp):
    name = "jupyter-mlops-models-policy"
    description = (
        "Store a model's promotion policy (applied by promote without --validate, and from "
        'the UI): jupyter mlops models policy churn --validate evaluate.ipynb --require "eval/'
        'loss <= baseline". Without flags: print it.'
    )
    aliases = {
        **MLOpsBaseApp.aliases,
        "validate": "ModelsPolicyApp.validate",
        "require": "ModelsPolicyApp.require",
        "seed": "ModelsPolicyApp.seed",
    }
    flags = dict(JSON_FLAG)
    validate = Unicode("", help="The validation notebook.").tag(config=True)
    require = List(Unicode(), help="A requirement (repeatable).").tag(config=True)
    seed = Int(None, allow_none=True, help="Seed of the validation runs.").tag(config=True)

    def run(self) -> int:
        (model,) = self.arguments("NAME")
        service = self.registry()
        if not self.validate and not self.require:
            policy = self.store.require_model(model).policy
            return self.print_result(policy, lambda p: str(p or "(no policy)"))
        notebook = str(Path(self.validate).expanduser().resolve()) if self.validate else ""
        policy = service.set_policy(
            model, notebook, list(self.require), actor=self.actor, seed=self.seed
        )
        return self.print_result(policy, lambda p: f"policy of {model}: {p}")


class ModelsPromoteApp(ModelsBaseApp):
    name = "jupyter-mlops-models-promote"
    description = """Move an alias to a version through the validation gate.

  jupyter mlops models promote churn 3 --alias production --validate evaluate.ipynb \\
      --require "eval/loss <= baseline" --require "latency_ms < 50" --wait
  (without --validate/--require: the model's policy)
  --force --reason TEXT   move it without validation (recorded as forced)
Exit 0: moved; 1: refused (the failing requirement named with both values); 2: bad input.
"""
    aliases = {
        **MLOpsBaseApp.aliases,
        "alias": "ModelsPromoteApp.alias",
        "validate": "ModelsPromoteApp.validate",
        "require": "ModelsPromoteApp.require",
        "reason": "ModelsPromoteApp.reason",
    }
    flags = {
        **JSON_FLAG,
        "wait": ({"ModelsPromoteApp": {"wait": True}}, "Wait for the verdict (exit 0 or 1)."),
        "force": ({"ModelsPromoteApp": {"force": True}}, "Move without validation."),
    }
    alias = Unicode("", help="The alias to move (production, staging...).").tag(config=True)
    validate = Unicode("", help="The validation notebook.").tag(config=True)
    require = List(Unicode(), help="A requirement (repeatable).").tag(config=True)
    reason = Unicode("", help="Why (required with --force).").tag(config=True)
    wait = Bool(False).tag(config=True)
    force = Bool(False).tag(config=True)

    def run(self) -> int:
        from ..registry.gate import finish_promotion, start_promotion, validation_runs
        from ..registry.views import promotion_view
        from .follow import wait_for_run

        model, version_text = self.arguments("NAME", "VERSION")
        version = self.version_argument(version_text)
        if not self.alias:
            fail("--alias ALIAS is required (e.g. --alias production)")
        service = self.registry()
        if self.force:
            if self.validate or self.require:
                fail("--force moves the alias without validation: drop --validate/--require")
            event = service.force_alias(
                model, self.alias, version, actor=self.actor, reason=self.reason
            )
            return self.print_result(promotion_view(event, None), format_promotion)
        jobs = self.jobs()
        started = start_promotion(
            jobs,
            model,
            version,
            self.alias,
            actor=self.actor,
            validate=self.validate or None,
            require=list(self.require) or None,
        )
        if not self.wait:
            return self.print_result(promotion_view(started, None), format_promotion)
        for run_id in validation_runs(started):
            wait_for_run(self, run_id, None, progress=not self.json_output)
        outcome = finish_promotion(self.store, started)
        view = promotion_view(started, outcome)
        self.print_result(view, format_promotion)
        if view["state"] != "promoted":
            print(f"refused: {view['message']}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK


class ModelsDeleteApp(ModelsBaseApp):
    name = "jupyter-mlops-models-delete"
    description = "Delete a model (NAME) or one version (NAME VERSION) no alias names."
    aliases = {**MLOpsBaseApp.aliases, "reason": "ModelsDeleteApp.reason"}
    reason = Unicode("", help="Why (kept in the history).").tag(config=True)

    def run(self) -> int:
        if len(self.extra_args) not in (1, 2):
            fail(f"expected NAME [VERSION], got {self.extra_args or 'nothing'}")
        model = self.extra_args[0]
        version = self.version_argument(self.extra_args[1]) if len(self.extra_args) == 2 else None
        self.registry().delete(model, version, actor=self.actor, reason=self.reason or None)
        print(f"deleted {model}" + (f" version {version}" if version else ""))
        return EXIT_OK


class ModelsExportApp(ModelsBaseApp):
    name = "jupyter-mlops-models-export"
    description = (
        "Write a version's weights, model card and package requirements to a directory: "
        "jupyter mlops models export churn@production ./release"
    )

    def run(self) -> int:
        from ..registry.cards import export_version

        uri, target = self.arguments("MODEL_URI", "DIR")
        service = self.registry()
        version = service.resolve(uri)
        name = self.store_name(uri)
        for path in export_version(self.settings, self.store, name, version, Path(target)):
            print(path)
        return EXIT_OK

    @staticmethod
    def store_name(uri: str) -> str:
        from ..registry.uris import is_model_uri, parse_model_uri

        return parse_model_uri(uri, scheme_optional=not is_model_uri(uri)).name


class ModelsCardApp(ModelsBaseApp):
    name = "jupyter-mlops-models-card"
    description = "Print a version's model card (Markdown): jupyter mlops models card churn/3"

    def run(self) -> int:
        from ..registry.cards import model_card

        (uri,) = self.arguments("MODEL_URI")
        version = self.registry().resolve(uri)
        print(model_card(self.store, ModelsExportApp.store_name(uri), version), end="")
        return EXIT_OK


class ModelsApp(CommandGroupApp):
    name = "jupyter-mlops-models"
    description = "The model registry: register, list, show, promote, policy, history, ..."
    subcommands = {
        "register": (ModelsRegisterApp, "Register a run's model artifact as a new version."),
        "list": (ModelsListApp, "List models and their aliases."),
        "show": (ModelsShowApp, "Show a model's versions."),
        "promote": (ModelsPromoteApp, "Move an alias through the validation gate."),
        "policy": (ModelsPolicyApp, "Store (or print) a model's promotion policy."),
        "history": (ModelsHistoryApp, "A model's audit trail."),
        "delete": (ModelsDeleteApp, "Delete a model or a version."),
        "export": (ModelsExportApp, "Export weights, card and requirements."),
        "card": (ModelsCardApp, "Print a version's model card."),
    }

    show_description = True
