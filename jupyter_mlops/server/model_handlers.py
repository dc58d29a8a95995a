"""Model registry REST handlers: models, versions, policy, promotions, history, cards.

A promotion runs notebooks, so starting one (and storing the policy that names the
notebook) needs the ``execute`` permission, as submitting a run does. It is answered at
once (202) with the promotion as it stands; the server drives it to its verdict in an
asyncio task that waits for the validation runs through the store, whether or not the
browser stays, and its periodic upkeep finishes any promotion left pending (a restart, a
promotion started from the CLI without ``--wait``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..identity import server_user
from ..registry.gate import finish_promotion, runs_ended, start_promotion
from ..registry.service import RegistryService
from ..registry.views import history, model_detail, model_summary, promotion_view, version_info
from .base import MLOpsHandler
from .models import (
    ModelDetail,
    ModelHistory,
    ModelList,
    ModelSummary,
    ModelVersionInfo,
    PolicyRequest,
    PromoteRequest,
    Promotion,
    RegisterRequest,
)
from .spec import (
    BAD_REQUEST,
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    PathItems,
    json_body,
    json_response,
    path_param,
)

log = logging.getLogger("jupyter_mlops.server")

MODEL_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}"
PROMOTION_POLL_S = 0.5
_DRIVERS: set[asyncio.Task[Any]] = set()
"""Running promotion drivers (a reference, so a task is not collected mid-way)."""


async def drive_promotion(store: Any, started: Any) -> None:
    """Wait for a promotion's validation runs to end, then decide it (in threads)."""
    try:
        while not await asyncio.to_thread(runs_ended, store, started):
            await asyncio.sleep(PROMOTION_POLL_S)
        await asyncio.to_thread(finish_promotion, store, started)
    except Exception:  # the upkeep finishes it later
        log.exception("jupyter-mlops: promotion %s could not be finished now", started.id)


def start_driver(store: Any, started: Any) -> None:
    task = asyncio.ensure_future(drive_promotion(store, started))
    _DRIVERS.add(task)
    task.add_done_callback(_DRIVERS.discard)


class ModelsBase(MLOpsHandler):
    @property
    def registry(self) -> RegistryService:
        return RegistryService(self.mlops.settings, self.mlops.store)

    @property
    def actor(self) -> str:
        return server_user(self.current_user)


class ModelsHandler(ModelsBase):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        store = self.mlops.store

        def listing() -> dict[str, Any]:
            return {"models": [model_summary(m) for m in store.list_models()]}

        self.send_json(await self.blocking(listing))

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        request = self.parse_body(RegisterRequest)
        store = self.mlops.store

        def register() -> dict[str, Any]:
            version = self.registry.register(
                request.run_id,
                request.artifact,
                request.name,
                actor=self.actor,
                description=request.description or "",
            )
            return version_info(store, request.name, version, {}).to_json()

        self.send_json(await self.blocking(register, value_errors=True), status=201)


class ModelHandler(ModelsBase):
    @tornado.web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.send_json(await self.blocking(model_detail, self.mlops.store, name))

    @tornado.web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        reason = self.get_argument("reason", None)

        def remove() -> None:
            self.registry.delete(name, None, actor=self.actor, reason=reason)

        await self.blocking(remove)
        self.set_status(204)
        self.finish()


class ModelVersionHandler(ModelsBase):
    @tornado.web.authenticated
    @authorized
    async def delete(self, name: str, version: str) -> None:
        reason = self.get_argument("reason", None)

        def remove() -> None:
            self.registry.delete(name, int(version), actor=self.actor, reason=reason)

        await self.blocking(remove)
        self.set_status(204)
        self.finish()


class ModelCardHandler(ModelsBase):
    @tornado.web.authenticated
    @authorized
    async def get(self, name: str, version: str) -> None:
        from ..registry.cards import model_card

        store = self.mlops.store

        def card() -> str:
            return model_card(store, name, store.get_version(name, int(version)))

        text = await self.blocking(card)
        self.finish(text, set_content_type="text/markdown; charset=utf-8")


class ModelHistoryHandler(ModelsBase):
    @tornado.web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        store = self.mlops.store

        def events() -> dict[str, Any]:
            data = history(store, name)
            if not data["events"]:
                store.require_model(name)
            return data

        self.send_json(await self.blocking(events))


class ModelPolicyHandler(ModelsBase):
    @tornado.web.authenticated
    @authorized("execute")
    async def put(self, name: str) -> None:
        request = self.parse_body(PolicyRequest)
        relpath = self.notebook_arg(request.validate_notebook, "validate")
        store = self.mlops.store

        def store_policy() -> dict[str, Any]:
            path, _display = self.resolve_existing_notebook(relpath)
            self.registry.set_policy(
                name, str(path), request.require, actor=self.actor, seed=request.seed
            )
            listing = next(m for m in store.list_models() if m.model.name == name)
            return model_summary(listing)

        self.send_json(await self.blocking(store_policy, value_errors=True))


class PromotionsHandler(ModelsBase):
    @tornado.web.authenticated
    @authorized("execute")
    async def post(self, name: str) -> None:
        request = self.parse_body(PromoteRequest)
        validate = request.validate_notebook
        if validate is not None:
            validate = self.notebook_arg(validate, "validate")
        store = self.mlops.store

        def promote() -> tuple[dict[str, Any], Any]:
            if request.force:
                if validate is not None or request.require:
                    raise ValueError("force moves the alias without validation: drop validate")
                event = self.registry.force_alias(
                    name,
                    request.alias,
                    request.version,
                    actor=self.actor,
                    reason=request.reason or "",
                )
                return promotion_view(event, None), None
            if validate is not None:
                self.resolve_existing_notebook(validate)
            started = start_promotion(
                self.mlops.jobs,
                name,
                request.version,
                request.alias,
                actor=self.actor,
                validate=validate,
                require=request.require,
            )
            return promotion_view(started, None), started

        view, started = await self.blocking(promote, value_errors=True)
        if started is not None:
            start_driver(store, started)
        self.send_json(view, status=201 if started is None else 202)


class PromotionHandler(ModelsBase):
    @tornado.web.authenticated
    @authorized
    async def get(self, name: str, promotion_id: str) -> None:
        store = self.mlops.store

        def view() -> dict[str, Any]:
            from .base import NotFound

            started = store.registry_event(int(promotion_id))
            if started is None or started.model_name != name or started.alias is None:
                raise NotFound(f"model {name!r} has no promotion {promotion_id}")
            return promotion_view(started, store.promotion_outcome(started.id))

        self.send_json(await self.blocking(view))


def model_routes(model: str) -> list[tuple[str, type[MLOpsHandler]]]:
    """The registry's routes under the API root (``model``: the name's URL pattern)."""
    one = f"models/(?P<name>{model})"
    return [
        ("models", ModelsHandler),
        (one, ModelHandler),
        (f"{one}/versions/(?P<version>[0-9]{{1,9}})", ModelVersionHandler),
        (f"{one}/versions/(?P<version>[0-9]{{1,9}})/card", ModelCardHandler),
        (f"{one}/history", ModelHistoryHandler),
        (f"{one}/policy", ModelPolicyHandler),
        (f"{one}/promotions", PromotionsHandler),
        (f"{one}/promotions/(?P<promotion_id>[0-9]{{1,18}})", PromotionHandler),
    ]


_NAME = path_param("name", {"type": "string", "pattern": f"^{MODEL_NAME_PATTERN}$"}, "Model name")
_VERSION = path_param("version", {"type": "string", "pattern": "^[0-9]{1,9}$"}, "Version number")
_NO_CONTENT = {"204": {"description": "Deleted"}}


PATHS: PathItems = {
    "/models": {
        "get": {
            "operationId": "listModels",
            "summary": "Registered models with their aliases",
            "responses": {"200": json_response("The models", ModelList), "403": FORBIDDEN},
        },
        "post": {
            "operationId": "registerModel",
            "summary": "Register a run's model artifact as the model's next version",
            "description": "The model is created on first use; versions count 1, 2, 3...",
            "requestBody": json_body(RegisterRequest),
            "responses": {
                "201": json_response("The new version", ModelVersionInfo),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
                "409": CONFLICT,
            },
        },
    },
    "/models/{name}": {
        "parameters": [_NAME],
        "get": {
            "operationId": "getModel",
            "summary": "A model with its versions (their runs' metrics and parameters)",
            "responses": {
                "200": json_response("The model", ModelDetail),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
        "delete": {
            "operationId": "deleteModel",
            "summary": "Delete a model, its versions and aliases (its history stays)",
            "responses": {**_NO_CONTENT, "403": FORBIDDEN, "404": NOT_FOUND},
        },
    },
    "/models/{name}/versions/{version}": {
        "parameters": [_NAME, _VERSION],
        "delete": {
            "operationId": "deleteModelVersion",
            "summary": "Delete a version that no alias names",
            "responses": {**_NO_CONTENT, "403": FORBIDDEN, "404": NOT_FOUND, "409": CONFLICT},
        },
    },
    "/models/{name}/versions/{version}/card": {
        "parameters": [_NAME, _VERSION],
        "get": {
            "operationId": "getModelCard",
            "summary": "The version's model card (Markdown)",
            "responses": {
                "200": {
                    "description": "The card",
                    "content": {"text/markdown": {"schema": {"type": "string"}}},
                },
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/models/{name}/history": {
        "parameters": [_NAME],
        "get": {
            "operationId": "getModelHistory",
            "summary": "Every registration, alias move, promotion and deletion, oldest first",
            "responses": {
                "200": json_response("The events", ModelHistory),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/models/{name}/policy": {
        "parameters": [_NAME],
        "put": {
            "operationId": "setModelPolicy",
            "summary": "Store the promotion policy (needs `execute`: it names a notebook)",
            "requestBody": json_body(PolicyRequest),
            "responses": {
                "200": json_response("The model", ModelSummary),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/models/{name}/promotions": {
        "parameters": [_NAME],
        "post": {
            "operationId": "promoteModel",
            "summary": "Move an alias through the validation gate (needs `execute`)",
            "description": "Submits the validation notebook for the candidate (and for the "
            "alias's current holder) and answers 202 with the pending promotion; the server "
            "moves the alias when every requirement holds. Without `validate`/`require` the "
            "model's policy applies. `force` with a `reason` moves it at once (201).",
            "requestBody": json_body(PromoteRequest),
            "responses": {
                "201": json_response("Forced: the alias moved", Promotion),
                "202": json_response("Started: the validation runs are queued", Promotion),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
                "409": CONFLICT,
            },
        },
    },
    "/models/{name}/promotions/{promotion_id}": {
        "parameters": [
            _NAME,
            path_param("promotion_id", {"type": "string", "pattern": "^[0-9]{1,18}$"}),
        ],
        "get": {
            "operationId": "getPromotion",
            "summary": "A promotion: its validation runs and each requirement's verdict",
            "responses": {
                "200": json_response("The promotion", Promotion),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
}
