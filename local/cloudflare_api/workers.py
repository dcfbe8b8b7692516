"""Workers: scripts (uploaded as multipart/form-data), their settings, content, cron
schedules, versions and deployments, the Workers (`/workers/workers`) that hold them,
zones with their routes, and custom domains. The calls are those of
terraform-provider-cloudflare v5.24.0's workers_script, workers_cron_trigger, workers_route,
workers_custom_domain, worker, worker_version and workers_deployment resources
(internal/services/<type>/resource.go, through cloudflare-go v7.9.0's workers package),
plus the reads `make adopt` makes.

One Worker holds everything under its name. A script upload makes a version and a
deployment of it at 100%, as the API does; what the script endpoints answer (content,
settings) is the deployment's version with the largest share. Routes, custom domains and
cron triggers are keyed by the script's name, not versioned.

Error answers: 10007, 10016, 10020 (a route pattern taken), 10021 (the d1 binding message),
10041 and 10085 (a KV namespace or R2 bucket a binding names that is not there) are the API's
as wrangler users quote them and as the API was probed (geoquant/discover-errors); 10220 (a
rollback across a secret change) is the one the Workers docs name. The 404s of an unknown
Worker service (10090), route (10009) and custom domain (100015), 409 for a Worker name taken
(10021), and the messages of the deployment rules were not seen in an answer: chosen here.
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from local.cloudflare_api.core import (
    ACCOUNT, CREATED, ApiError, Call, Handler, Raw, error, field_at, invalid, no_route, ordered,
)
from local.cloudflare_api.seed import HEX32, SCRIPT_NAME, Account, CustomDomain
from local.cloudflare_api.storage import StorageApi

# The user a token belongs to, as deployments name their author.
AUTHOR_EMAIL = "deployer@example.com"
# Rollbacks and deployments reach only this many of a Worker's newest versions (the
# Workers docs, "Rollbacks").
DEPLOYABLE_VERSIONS = 100
WORKER_NOT_FOUND = (404, error(10007, "This Worker does not exist on your account."))
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The handlers of a default export. The API learns them by running the script; here a
# handler's definition in the main module (`async scheduled(`, `queue:`) stands in.
_HANDLERS = ("fetch", "scheduled", "queue", "email", "tail", "trace", "alarm")
_HANDLER = re.compile(r"\b(" + "|".join(_HANDLERS) + r")\s*[(:]")
# Settings the API keeps per version and answers as they were sent.
_VERSION_SETTINGS = ("limits", "placement", "cache_options", "migrations", "exports", "containers", "assets")


@dataclass
class _Module:
    name: str
    content_type: str
    content: bytes


@dataclass
class _Version:
    id: str
    number: int
    main_module: str | None  # ES modules; None for a service worker (body_part)
    body_part: str | None
    modules: list[_Module]
    bindings: list[dict[str, Any]]  # as sent, secret texts included: never answered
    settings: dict[str, Any]  # compatibility date and flags, usage model and _VERSION_SETTINGS, as sent
    message: dict[str, str]  # annotations the client wrote (workers/message, workers/tag)
    triggered_by: str

    @property
    def main(self) -> _Module:
        return next(m for m in self.modules if m.name == (self.main_module or self.body_part))

    @property
    def etag(self) -> str:
        digest = hashlib.sha256(json.dumps([self.settings, self.bindings], sort_keys=True).encode())
        for module in self.modules:
            digest.update(module.name.encode() + b"\0" + module.content)
        return digest.hexdigest()

    def secrets(self) -> dict[str, str]:
        return {b["name"]: b.get("text", "") for b in self.bindings if b["type"] == "secret_text"}


@dataclass
class _Deployment:
    id: str
    versions: list[dict[str, Any]]
    message: dict[str, str]
    triggered_by: str


@dataclass
class _Worker:
    name: str
    id: str
    logpush: bool = False
    tags: list[str] = field(default_factory=list)
    observability: dict[str, Any] | None = None  # None: never set, and a script's answers leave it out
    subdomain: dict[str, bool] = field(default_factory=lambda: {"enabled": False, "previews_enabled": False})
    tail_consumers: list[dict[str, Any]] = field(default_factory=list)
    versions: list[_Version] = field(default_factory=list)
    deployments: list[_Deployment] = field(default_factory=list)
    crons: list[str] = field(default_factory=list)

    def version(self, version_id: str) -> _Version | None:
        return next((v for v in self.versions if v.id == version_id), None)

    @property
    def current(self) -> _Version | None:
        """The version the script endpoints answer: the largest share of the latest deployment."""
        if not self.deployments:
            return None
        largest = max(self.deployments[-1].versions, key=lambda v: v["percentage"])
        return self.version(largest["version_id"])


@dataclass
class _Route:
    id: str
    pattern: str
    script: str | None


@dataclass
class _Zone:
    id: str
    name: str
    routes: list[_Route]


class WorkersApi(StorageApi):
    def _seed(self, account: Account) -> None:
        super()._seed(account)
        self.workers: list[_Worker] = []
        for script in account.scripts:
            worker = self._new_worker(script.name)
            module = _Module("index.js", "application/javascript+module", script.content.encode())
            version = self._add_version(worker, "index.js", None, [module], [], {"compatibility_date": "2025-01-01"}, {}, "upload")
            self._deploy(worker, [{"version_id": version.id, "percentage": 100}], {}, "upload")
            worker.crons = list(script.crons)
        self.zones = [_Zone(z.id, z.name, [_Route(r.id, r.pattern, r.script) for r in z.routes]) for z in account.zones]
        self.domains: list[CustomDomain] = list(account.domains)

    def _route_table(self) -> list[tuple[str, str, Handler]]:
        script = ACCOUNT + "/workers/scripts/(?P<script>[^/]+)"
        worker = ACCOUNT + "/workers/workers/(?P<worker>[^/]+)"
        zone_routes = "/client/v4/zones/(?P<zone>[^/]+)/workers/routes"
        return super()._route_table() + [
            ("GET", ACCOUNT + "/workers/scripts", self._scripts),
            ("PUT", script, self._upload),
            ("GET", script, self._download_script),
            ("DELETE", script, self._delete_script),
            ("GET", ACCOUNT + "/workers/services/(?P<script>[^/]+)", self._service),
            ("GET", script + "/settings", self._settings),
            ("GET", script + "/content/v2", self._content),
            ("GET", script + "/schedules", self._schedules),
            ("PUT", script + "/schedules", self._put_schedules),
            ("GET", script + "/deployments", self._deployments),
            ("POST", script + "/deployments", self._create_deployment),
            ("GET", script + "/deployments/(?P<deployment>[^/]+)", self._get_deployment),
            ("DELETE", script + "/deployments/(?P<deployment>[^/]+)", self._delete_deployment),
            ("GET", ACCOUNT + "/workers/workers", self._workers),
            ("POST", ACCOUNT + "/workers/workers", self._create_worker),
            ("GET", worker, self._get_worker),
            ("PUT", worker, self._replace_worker),
            ("PATCH", worker, self._edit_worker),
            ("DELETE", worker, self._delete_worker),
            ("GET", worker + "/versions", self._versions),
            ("POST", worker + "/versions", self._create_version),
            ("GET", worker + "/versions/(?P<version>[^/]+)", self._get_version),
            ("GET", ACCOUNT + "/workers/domains", self._domains),
            ("PUT", ACCOUNT + "/workers/domains", self._attach_domain),
            ("GET", ACCOUNT + "/workers/domains/(?P<domain>[^/]+)", self._get_domain),
            ("DELETE", ACCOUNT + "/workers/domains/(?P<domain>[^/]+)", self._detach_domain),
            ("GET", "/client/v4/zones", self._zones),
            ("GET", zone_routes, self._routes_of_zone),
            ("POST", zone_routes, self._create_route),
            ("GET", zone_routes + "/(?P<route>[^/]+)", self._get_route),
            ("PUT", zone_routes + "/(?P<route>[^/]+)", self._update_route),
            ("DELETE", zone_routes + "/(?P<route>[^/]+)", self._delete_route),
        ]

    # The Worker store.
    def _new_worker(self, name: str) -> _Worker:
        worker = _Worker(name, self.ids.hex("worker", name))
        self.workers.append(worker)
        return worker

    def _worker(self, name_or_id: str) -> _Worker:
        found = next((w for w in self.workers if name_or_id in (w.name, w.id)), None)
        if found is None:
            raise ApiError(*WORKER_NOT_FOUND)
        return found

    def _script(self, name: str) -> tuple[_Worker, _Version]:
        """A Worker with code deployed: what the script endpoints answer for."""
        worker = self._worker(name)
        if worker.current is None:
            raise ApiError(*WORKER_NOT_FOUND)
        return worker, worker.current

    def _add_version(self, worker: _Worker, main_module: str | None, body_part: str | None, modules: list[_Module],
                     bindings: list[dict[str, Any]], settings: dict[str, Any], message: dict[str, str], triggered_by: str) -> _Version:
        number = len(worker.versions) + 1
        version = _Version(self.ids.uuid("version", f"{worker.name}/{number}"), number, main_module, body_part, modules,
                           bindings, settings, message, triggered_by)
        worker.versions.append(version)
        return version

    def _deploy(self, worker: _Worker, versions: list[dict[str, Any]], message: dict[str, str], triggered_by: str) -> _Deployment:
        deployment = _Deployment(self.ids.uuid("deployment", f"{worker.name}/{len(worker.deployments)}"), versions, message, triggered_by)
        worker.deployments.append(deployment)
        return deployment

    # Scripts.
    def _scripts(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return [_script_answer(w, w.current) for w in self.workers if w.current is not None], None

    def _upload(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        name = params["script"]
        if not SCRIPT_NAME.fullmatch(name):
            raise ApiError(400, error(10016, "Invalid Worker name. Ensure the name is lowercase, alphanumeric, and dashes or underscores only."))
        parts = _form_parts(call)
        metadata_part = next((p for p in parts if p.name == "metadata"), None)
        if metadata_part is None:
            raise invalid("The multipart upload has no metadata part")
        try:
            metadata = json.loads(metadata_part.content)
        except ValueError:
            raise invalid("The metadata part is not JSON") from None
        if not isinstance(metadata, dict):
            raise invalid("The metadata part must be a JSON object")
        modules = [p for p in parts if p is not metadata_part]
        main_module, body_part = metadata.get("main_module"), metadata.get("body_part")
        if not (main_module or body_part):
            raise invalid("The metadata names neither a main_module nor a body_part")
        if not any(m.name == (main_module or body_part) for m in modules):
            raise invalid(f'Uncaught Error: No such module "{main_module or body_part}".')
        bindings = self._checked_bindings(metadata.get("bindings"))
        settings = _version_settings(metadata)
        worker = next((w for w in self.workers if w.name == name), None) or self._new_worker(name)
        _apply_script_settings(worker, metadata)
        version = self._add_version(worker, main_module, None if main_module else body_part, modules, bindings, settings,
                                    _annotations(metadata), "upload")
        self._deploy(worker, [{"version_id": version.id, "percentage": 100}], {}, "upload")
        answer = _script_answer(worker, version)
        if "placement" not in settings:
            # The upload's answer leaves out a placement never set, which the reads answer as
            # {}: workers_script's Read turns that {} into null to match what its Create kept.
            del answer["placement"]
        return answer, None

    def _download_script(self, params: dict[str, str], call: Call) -> tuple[Raw, None]:
        # "Download Worker": the script's own text, not JSON, as the reference says.
        main = self._script(params["script"])[1].main
        return Raw(main.content_type, main.content), None

    def _delete_script(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        self.workers.remove(self._worker(params["script"]))
        return None, None

    def _service(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        worker = next((w for w in self.workers if w.name == params["script"]), None)
        if worker is None or worker.current is None:
            raise ApiError(404, error(10090, "workers.api.error.service_not_found"))
        environment = {"environment": "production", "created_on": CREATED, "modified_on": CREATED,
                       "script": _script_answer(worker, worker.current)}
        return {"id": worker.name, "default_environment": environment, "created_on": CREATED, "modified_on": CREATED}, None

    def _settings(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        worker, version = self._script(params["script"])
        settings = {"annotations": _version_annotations(version), "bindings": _public_bindings(version.bindings),
                    "compatibility_date": version.settings.get("compatibility_date"),
                    "compatibility_flags": version.settings.get("compatibility_flags", []), "logpush": worker.logpush,
                    "placement": version.settings.get("placement", {}), "tags": worker.tags, "tail_consumers": worker.tail_consumers,
                    "usage_model": version.settings.get("usage_model", "standard")}
        settings |= {name: version.settings[name] for name in ("limits", "cache_options") if name in version.settings}
        if worker.observability is not None:
            settings["observability"] = _observability(worker.observability)
        return settings, None

    def _content(self, params: dict[str, str], call: Call) -> tuple[Raw, None]:
        main = self._script(params["script"])[1].main
        return Raw(main.content_type, main.content, {"cf-entrypoint": main.name}), None

    def _schedules(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return _schedules(self._worker(params["script"])), None

    def _put_schedules(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        worker = self._worker(params["script"])
        body = call.body
        if not isinstance(body, list) or not all(isinstance(s, dict) and isinstance(s.get("cron"), str) for s in body):
            raise invalid("The body must be a list of {\"cron\": \"...\"} objects")
        for schedule in body:
            if len(schedule["cron"].split()) != 5:
                raise invalid(f"Invalid cron expression {schedule['cron']!r}: a cron trigger has five fields")
        worker.crons = [s["cron"] for s in body]
        return _schedules(worker), None

    # Deployments.
    def _deployments(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        worker = self._worker(params["script"])
        return {"deployments": [_deployment_answer(d) for d in reversed(worker.deployments)]}, None

    def _deployment_of(self, params: dict[str, str]) -> tuple[_Worker, _Deployment]:
        worker = self._worker(params["script"])
        found = next((d for d in worker.deployments if d.id == params["deployment"]), None)
        if found is None:
            raise ApiError(404, error(10007, f"Deployment {params['deployment']} does not exist on Worker {worker.name}."))
        return worker, found

    def _get_deployment(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return _deployment_answer(self._deployment_of(params)[1]), None

    def _delete_deployment(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        worker, deployment = self._deployment_of(params)
        if deployment is worker.deployments[-1]:
            raise invalid("The latest deployment is the one serving traffic and cannot be deleted.")
        worker.deployments.remove(deployment)
        return None, None

    def _create_deployment(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        worker = self._worker(params["script"])
        body = call.json_object()
        if body.get("strategy") != "percentage":
            raise invalid("strategy must be \"percentage\"")
        versions = body.get("versions")
        if not isinstance(versions, list) or not 1 <= len(versions) <= 2:
            raise invalid("A deployment holds one or two versions")
        shares: list[dict[str, Any]] = []
        for entry in versions:
            version_id, percentage = (entry.get("version_id"), entry.get("percentage")) if isinstance(entry, dict) else (None, None)
            if not isinstance(version_id, str) or isinstance(percentage, bool) or not isinstance(percentage, (int, float)):
                raise invalid("Each version of a deployment needs a version_id and a percentage")
            if not 0 <= percentage <= 100:
                raise invalid(f"The percentage of version {version_id} must be between 0 and 100")
            if any(s["version_id"] == version_id for s in shares):
                raise invalid(f"Version {version_id} is named twice")
            shares.append({"version_id": version_id, "percentage": percentage})
        if round(sum(s["percentage"] for s in shares), 6) != 100:
            raise invalid("The percentages of a deployment's versions must sum to 100")
        deployable = worker.versions[-DEPLOYABLE_VERSIONS:]
        chosen = []
        for share in shares:
            version = worker.version(share["version_id"])
            if version is None:
                raise invalid(f"Version {share['version_id']} is not a version of Worker {worker.name}")
            if version not in deployable:
                raise invalid(f"Version {version.id} is older than the {DEPLOYABLE_VERSIONS} newest versions of Worker {worker.name}")
            self._check_still_bound(version)
            chosen.append(version)
        # A rollback (to a version older than the one deployed) must not bring back other
        # secrets than the deployed version's without force; a newer version may change them.
        current = worker.current
        if current is not None and not call.flag("force") and any(
                v.number < current.number and v.secrets() != current.secrets() for v in chosen):
            raise ApiError(400, error(10220, "The secrets of the version to roll back to differ from those of the deployed version; "
                                             "deploy with force=true to go ahead"))
        deployment = self._deploy(worker, shares, _annotations(body), "deployment")
        return _deployment_answer(deployment), None

    def _check_still_bound(self, version: _Version) -> None:
        for binding in version.bindings:
            if binding["type"] == "kv_namespace" and not self.namespace_exists(binding.get("namespace_id", "")):
                raise ApiError(400, error(10041, f"KV namespace '{binding.get('namespace_id')}' not found."))
            if binding["type"] == "r2_bucket" and not self.bucket_exists(binding.get("bucket_name", ""), binding.get("jurisdiction") or "default"):
                raise ApiError(400, error(10085, f"R2 bucket '{binding.get('bucket_name')}' not found. Please use a different name and try again."))

    def _checked_bindings(self, bindings: Any) -> list[dict[str, Any]]:
        """The bindings of an upload, refused where the API refuses them."""
        if bindings is None:
            return []
        if not isinstance(bindings, list) or not all(isinstance(b, dict) and isinstance(b.get("name"), str)
                                                     and isinstance(b.get("type"), str) for b in bindings):
            raise invalid("bindings must be a list of objects with a name and a type")
        names = [b["name"] for b in bindings]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise invalid(f"Binding names must be unique: {', '.join(twice)}")
        for binding in bindings:
            if binding["type"] == "d1" and not self.has_database(str(binding.get("id") or binding.get("database_id") or "")):
                raise invalid(f"binding {binding['name']} of type d1 must have a valid `id` specified")
            if binding["type"] in ("plain_text", "secret_text") and not isinstance(binding.get("text"), str):
                raise invalid(f"binding {binding['name']} of type {binding['type']} must have a `text`")
        probe = _Version("", 0, None, None, [], bindings, {}, {}, "")
        self._check_still_bound(probe)
        return bindings

    # Workers (/workers/workers) and their versions.
    def _workers(self, params: dict[str, str], call: Call) -> tuple[Any, dict[str, Any]]:
        return self._page("workers", [self._worker_answer(w) for w in self.workers], call)

    def _create_worker(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        body = call.json_object()
        name = body.get("name")
        if not isinstance(name, str) or not SCRIPT_NAME.fullmatch(name):
            raise ApiError(400, error(10016, "Invalid Worker name. Ensure the name is lowercase, alphanumeric, and dashes or underscores only."))
        if any(w.name == name for w in self.workers):
            raise ApiError(409, error(10021, f"A Worker named {name} already exists on this account."))
        worker = self._new_worker(name)
        _apply_worker_settings(worker, body, replace=True)
        return self._worker_answer(worker), None

    def _get_worker(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return self._worker_answer(self._worker(params["worker"])), None

    def _replace_worker(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return self._change_worker(params, call, replace=True)

    def _edit_worker(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return self._change_worker(params, call, replace=False)

    def _change_worker(self, params: dict[str, str], call: Call, replace: bool) -> tuple[Any, None]:
        worker = self._worker(params["worker"])
        body = call.json_object()
        if body.get("name", worker.name) != worker.name:
            raise invalid("A Worker's name cannot be changed")
        _apply_worker_settings(worker, body, replace)
        return self._worker_answer(worker), None

    def _delete_worker(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        self.workers.remove(self._worker(params["worker"]))
        return None, None

    def _versions(self, params: dict[str, str], call: Call) -> tuple[Any, dict[str, Any]]:
        # The newest first, as the reference says of a Worker's versions.
        return self._page("versions", [_version_answer(v, modules=False) for v in reversed(self._worker(params["worker"]).versions)], call)

    def _get_version(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        worker = self._worker(params["worker"])
        version = worker.version(params["version"])
        if version is None:
            raise ApiError(404, error(10007, f"Version {params['version']} does not exist on Worker {worker.name}."))
        return _version_answer(version, modules=call.arg("include") == "modules"), None

    def _create_version(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        worker = self._worker(params["worker"])
        body = call.json_object()
        modules = []
        for index, module in enumerate(body.get("modules") or []):
            if not isinstance(module, dict) or not isinstance(module.get("name"), str) or not isinstance(module.get("content_type"), str):
                raise invalid(f"modules[{index}] needs a name and a content_type")
            try:
                content = base64.b64decode(module.get("content_base64") or "", validate=True)
            except binascii.Error:
                raise invalid(f"modules[{index}].content_base64 is not base64") from None
            modules.append(_Module(module["name"], module["content_type"], content))
        main_module = body.get("main_module")
        if not isinstance(main_module, str) or not any(m.name == main_module for m in modules):
            raise invalid(f'Uncaught Error: No such module "{main_module}".')
        version = self._add_version(worker, main_module, None, modules, self._checked_bindings(body.get("bindings")),
                                    _version_settings(body), _annotations(body), "version_upload")
        if call.flag("deploy"):
            self._deploy(worker, [{"version_id": version.id, "percentage": 100}], {}, "version_upload")
        return _version_answer(version, modules=False), None

    def _worker_answer(self, worker: _Worker) -> dict[str, Any]:
        domains = [{"id": d.id, "certificate_id": _certificate(d.hostname), "hostname": d.hostname, "zone_id": d.zone_id,
                    "zone_name": d.zone_name} for d in self.domains if d.service == worker.name]
        callers = [{"id": w.id, "name": w.name} for w in self.workers if w.current is not None
                   and any(b["type"] == "service" and b.get("service") == worker.name for b in w.current.bindings)]
        return {"id": worker.id, "name": worker.name, "logpush": worker.logpush, "tags": worker.tags,
                "observability": _observability(_merge(_DEFAULT_OBSERVABILITY, worker.observability or {})),
                "subdomain": {"enabled": False, "previews_enabled": False} | worker.subdomain, "tail_consumers": worker.tail_consumers, "created_on": CREATED, "updated_on": CREATED,
                "deployed_on": CREATED if worker.deployments else None,
                "references": {"dispatch_namespace_outbounds": [], "domains": domains, "durable_objects": [], "queues": [], "workers": callers}}

    # Custom domains.
    def _domains(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        domains = [_domain(d) for d in self.domains]
        filters = {name: call.arg(name) for name in ("hostname", "service", "environment", "zone_id", "zone_name")}
        return [d for d in domains if all(value is None or d[name] == value for name, value in filters.items())], None

    def _domain_of(self, params: dict[str, str], call: Call) -> CustomDomain:
        found = next((d for d in self.domains if d.id == params["domain"]), None)
        if found is None:
            if not HEX32.fullmatch(params["domain"]):
                raise no_route(call.path)
            raise ApiError(404, error(100015, "Domain not found"))
        return found

    def _get_domain(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return _domain(self._domain_of(params, call)), None

    def _attach_domain(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        body = call.json_object()
        hostname, service = body.get("hostname"), body.get("service")
        if not isinstance(hostname, str) or not isinstance(service, str):
            raise invalid("hostname and service are required")
        self._script(service)
        zone = self._zone_for(hostname, body.get("zone_id"), body.get("zone_name"))
        existing = next((d for d in self.domains if d.hostname == hostname), None)
        domain = CustomDomain(existing.id if existing else self.ids.hex("domain", hostname), hostname, service, zone.id, zone.name,
                              body.get("environment") or "production")
        if existing:
            self.domains[self.domains.index(existing)] = domain
        else:
            self.domains.append(domain)
        return _domain(domain), None

    def _zone_for(self, hostname: str, zone_id: Any, zone_name: Any) -> _Zone:
        candidates = [z for z in self.zones if (zone_id is None or z.id == zone_id) and (zone_name is None or z.name == zone_name)]
        within = [z for z in candidates if hostname == z.name or hostname.endswith("." + z.name)]
        if not within:
            raise invalid(f"Hostname {hostname} is not in a zone of this account" + (f" ({zone_id or zone_name})" if zone_id or zone_name else ""))
        return max(within, key=lambda z: len(z.name))

    def _detach_domain(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        self.domains.remove(self._domain_of(params, call))
        return None, None

    # Zones and their routes.
    def _zones(self, params: dict[str, str], call: Call) -> tuple[Any, dict[str, Any]]:
        zones = [_zone(z, self.account) for z in self.zones]
        tests = [test for test in (_name_test(call.arg("name")), _equal_test(("account", "id"), call.arg("account.id")),
                                   _equal_test(("account", "name"), call.arg("account.name")), _equal_test(("status",), call.arg("status")))
                 if test is not None]
        combine = any if call.arg("match") == "any" else all
        zones = [z for z in zones if not tests or combine(test(z) for test in tests)]
        return self._page("zones", ordered(zones, call, ("name", "status", "account.id", "account.name")), call)

    def _zone_of(self, params: dict[str, str], call: Call) -> _Zone:
        zone = next((z for z in self.zones if z.id == params["zone"]), None)
        if zone is None:
            raise no_route(call.path)
        return zone

    def _route_of(self, zone: _Zone, route_id: str, call: Call) -> _Route:
        found = next((r for r in zone.routes if r.id == route_id), None)
        if found is None:
            if not HEX32.fullmatch(route_id):
                raise no_route(call.path)
            raise ApiError(404, error(10009, "workers.api.error.route_not_found"))
        return found

    def _route_body(self, zone: _Zone, call: Call, route: _Route | None = None) -> tuple[str, str | None]:
        body = call.json_object()
        pattern, script = body.get("pattern"), body.get("script")
        if not isinstance(pattern, str) or not pattern:
            raise invalid("pattern is required")
        if script is not None and not isinstance(script, str):
            raise invalid("script must be a string")
        if any(r.pattern == pattern and r is not route for r in zone.routes):
            raise ApiError(409, error(10020, "A route with the same pattern already exists"))
        return pattern, script

    def _routes_of_zone(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return [_route(r) for r in self._zone_of(params, call).routes], None

    def _create_route(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        zone = self._zone_of(params, call)
        pattern, script = self._route_body(zone, call)
        route = _Route(self.ids.hex("route", f"{zone.id}/{pattern}"), pattern, script)
        zone.routes.append(route)
        return _route(route), None

    def _get_route(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return _route(self._route_of(self._zone_of(params, call), params["route"], call)), None

    def _update_route(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        zone = self._zone_of(params, call)
        route = self._route_of(zone, params["route"], call)
        route.pattern, route.script = self._route_body(zone, call, route)
        return _route(route), None

    def _delete_route(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        zone = self._zone_of(params, call)
        route = self._route_of(zone, params["route"], call)
        zone.routes.remove(route)
        return {"id": route.id}, None


def _form_parts(call: Call) -> list[_Module]:
    """The parts of a multipart/form-data body, each named by its filename (the provider
    and wrangler give a module part its name as both), else by its form field name."""
    content_type = call.headers.get("content-type") or ""
    if not content_type.startswith("multipart/form-data"):
        raise invalid(f"A script is uploaded as multipart/form-data, not {content_type or 'a body without a type'}")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + call.raw)
    if not message.is_multipart():
        raise invalid("The multipart body has no parts")
    parts = []
    for part in message.iter_parts():
        name = part.get_filename() or part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise invalid("A part of the multipart body has no name")
        parts.append(_Module(name, part.get_content_type(), part.get_payload(decode=True) or b""))
    return parts


def _version_settings(metadata: dict[str, Any]) -> dict[str, Any]:
    date = metadata.get("compatibility_date")
    if date is not None and not (isinstance(date, str) and _DATE.fullmatch(date)):
        raise invalid(f"compatibility_date {date!r} is not a date (YYYY-MM-DD)")
    flags = metadata.get("compatibility_flags")
    if flags is not None and not (isinstance(flags, list) and all(isinstance(f, str) for f in flags)):
        raise invalid("compatibility_flags must be a list of strings")
    usage = metadata.get("usage_model")
    if usage is not None and usage not in ("standard", "bundled", "unbound"):
        raise invalid(f"usage_model {usage!r} is not one of standard, bundled, unbound")
    settings = {name: metadata[name] for name in ("compatibility_date", "compatibility_flags", "usage_model", *_VERSION_SETTINGS)
                if metadata.get(name) is not None}
    return settings


def _annotations(body: dict[str, Any]) -> dict[str, str]:
    annotations = body.get("annotations") or {}
    return {k: v for k, v in annotations.items() if k in ("workers/message", "workers/tag") and isinstance(v, str)}


def _apply_script_settings(worker: _Worker, metadata: dict[str, Any]) -> None:
    """What an upload's metadata says of the whole Worker rather than of the version."""
    if "logpush" in metadata:
        worker.logpush = bool(metadata["logpush"])
    if metadata.get("observability") is not None:
        worker.observability = metadata["observability"]
    if metadata.get("tail_consumers") is not None:
        worker.tail_consumers = metadata["tail_consumers"]
    if metadata.get("tags") is not None:
        worker.tags = metadata["tags"]


def _apply_worker_settings(worker: _Worker, body: dict[str, Any], replace: bool) -> None:
    """PUT replaces every setting (what it leaves out goes back to the default); PATCH changes what it names."""
    fresh = _Worker(worker.name, worker.id)
    for name in ("logpush", "tags", "observability", "subdomain", "tail_consumers"):
        if body.get(name) is not None:
            value = body[name]
            if name in ("observability", "subdomain") and not replace:
                value = _merge(getattr(worker, name) or {}, value)
            setattr(worker, name, value)
        elif replace:
            setattr(worker, name, getattr(fresh, name))


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in change.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


# A Worker's observability when nothing was set, as the Workers API answers it.
_DEFAULT_OBSERVABILITY = {
    "enabled": False, "head_sampling_rate": 1,
    "logs": {"destinations": [], "enabled": False, "head_sampling_rate": 1, "invocation_logs": True, "persist": True},
    "traces": {"destinations": [], "enabled": False, "head_sampling_rate": 1, "persist": True},
}


def _observability(observability: dict[str, Any]) -> dict[str, Any]:
    """As sent, with the API's defaults for what it always answers: logs and traces persist."""
    answer = dict(observability)
    for part in ("logs", "traces"):
        if isinstance(answer.get(part), dict):
            answer[part] = {"persist": True, **answer[part]}
    return answer


def _public_bindings(bindings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bindings as the API answers them: sorted by name, a secret's text never, a D1 database's
    id also as database_id."""
    public = []
    for binding in sorted(bindings, key=lambda b: b["name"]):
        if binding["type"] == "secret_text":
            public.append({"name": binding["name"], "type": "secret_text"})
        elif binding["type"] == "d1":
            database = binding.get("id") or binding.get("database_id")
            public.append({**binding, "id": database, "database_id": database})
        else:
            public.append(dict(binding))
    return public


def _handlers(version: _Version) -> list[str]:
    found = set(_HANDLER.findall(version.main.content.decode("utf-8", "replace")))
    return [h for h in _HANDLERS if h in found] or ["fetch"]


def _script_answer(worker: _Worker, version: _Version) -> dict[str, Any]:
    """A script as the upload, the list and the service's default environment answer it."""
    answer = {"id": worker.name, "tag": hashlib.md5(worker.name.encode()).hexdigest(), "etag": version.etag,
              "handlers": _handlers(version), "has_assets": False, "has_modules": version.main_module is not None,
              "compatibility_date": version.settings.get("compatibility_date"),
              "compatibility_flags": version.settings.get("compatibility_flags", []), "created_on": CREATED, "modified_on": CREATED,
              "last_deployed_from": "api", "logpush": worker.logpush, "placement": version.settings.get("placement", {}),
              "startup_time_ms": 0, "tags": worker.tags, "tail_consumers": worker.tail_consumers,
              "usage_model": version.settings.get("usage_model", "standard"), "entry_point": version.main.name}
    if worker.observability is not None:
        answer["observability"] = _observability(worker.observability)
    return answer


def _version_annotations(version: _Version) -> dict[str, str]:
    return {**version.message, "workers/triggered_by": version.triggered_by}


def _version_answer(version: _Version, modules: bool) -> dict[str, Any]:
    answer = {"id": version.id, "number": version.number, "created_on": CREATED, "urls": [], "source": "api",
              "annotations": _version_annotations(version), "bindings": _public_bindings(version.bindings),
              "compatibility_date": version.settings.get("compatibility_date"),
              "compatibility_flags": version.settings.get("compatibility_flags", []), "main_module": version.main_module,
              "usage_model": version.settings.get("usage_model", "standard"), "startup_time_ms": 0}
    answer |= {name: version.settings[name] for name in _VERSION_SETTINGS if name in version.settings}
    if version.body_part is not None:
        answer["main_script_base64"] = base64.b64encode(version.main.content).decode()
    if modules:
        answer["modules"] = [{"name": m.name, "content_type": m.content_type, "content_base64": base64.b64encode(m.content).decode()}
                             for m in version.modules]
    return answer


def _deployment_answer(deployment: _Deployment) -> dict[str, Any]:
    return {"id": deployment.id, "created_on": CREATED, "source": "api", "strategy": "percentage", "versions": deployment.versions,
            "annotations": {**deployment.message, "workers/triggered_by": deployment.triggered_by}, "author_email": AUTHOR_EMAIL}


def _schedules(worker: _Worker) -> dict[str, Any]:
    return {"schedules": [{"cron": cron, "created_on": CREATED, "modified_on": CREATED} for cron in worker.crons]}


def _route(route: _Route) -> dict[str, Any]:
    return {"id": route.id, "pattern": route.pattern, "script": route.script}


def _certificate(hostname: str) -> str:
    # The UUID of the certificate issued for the hostname, one per hostname here.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "certificate:" + hostname))


def _domain(domain: CustomDomain) -> dict[str, Any]:
    return {"id": domain.id, "cert_id": _certificate(domain.hostname), "hostname": domain.hostname, "service": domain.service,
            "environment": domain.environment, "zone_id": domain.zone_id, "zone_name": domain.zone_name}


def _zone(zone: _Zone, account: Account) -> dict[str, Any]:
    return {"id": zone.id, "name": zone.name, "status": "active", "paused": False, "type": "full", "development_mode": 0,
            "account": {"id": account.id, "name": account.name}, "owner": {"id": None, "type": "organization", "name": account.name},
            "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"], "original_name_servers": None,
            "original_registrar": None, "original_dnshost": None, "created_on": CREATED, "modified_on": CREATED, "activated_on": CREATED}


def _equal_test(path: tuple[str, ...], wanted: str | None) -> Any:
    return None if wanted is None else (lambda zone: field_at(zone, path) == wanted)


# The zone name filter's documented operators, written `name=<operator>:<value>`; equal by default.
_NAME_OPERATORS = {
    "equal": lambda name, value: name.lower() == value.lower(),
    "not_equal": lambda name, value: name.lower() != value.lower(),
    "starts_with": lambda name, value: name.lower().startswith(value.lower()),
    "ends_with": lambda name, value: name.lower().endswith(value.lower()),
    "contains": lambda name, value: value.lower() in name.lower(),
    "starts_with_case_sensitive": str.startswith,
    "ends_with_case_sensitive": str.endswith,
    "contains_case_sensitive": lambda name, value: value in name,
}


def _name_test(wanted: str | None) -> Any:
    if wanted is None:
        return None
    operator, _, value = wanted.partition(":")
    if operator not in _NAME_OPERATORS or not value:
        operator, value = "equal", wanted
    return lambda zone: _NAME_OPERATORS[operator](zone["name"], value)
