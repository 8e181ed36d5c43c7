"""The HTTP edges (the partner gateway, the moderation API), written once.

An API is a table of ``Route``s and one service method decorated with
``@api(ROUTES, INFO)``. The entrypoint does all of HTTP: it matches the route,
checks the ids of the path, parses and validates the query and the JSON body
with the route's marshmallow schemas (the same schemas the services load RPC
payloads with, ``contracts.api``), reads the bearer credential and the acting
member, and hands the service method an ``ApiCall``. The method authenticates
and dispatches (an RPC for the gateway, a local command for moderation) and
returns the JSON body.

Every error leaves as ``application/problem+json`` (RFC 9457) with the status,
a ``code``, the fields (``errors``), the charter rule when one is the reason,
and the request id, which is also on every response (``X-Request-Id``) and in
the one log line each request writes. A fault nobody foresaw is a 500 problem
with the request id, its traceback in the log only.

``/openapi.json`` (OpenAPI 3.1) is generated from the same table, so the
document cannot drift from what is enforced.

A request waits for its worker in turn among the callers waiting, one caller
holding at most half of them (``fairness.py``); the metrics page and the
OpenAPI document need no worker. The gateway's commands take an
``Idempotency-Key`` (``eventcore.commands``), and a command that takes no body
still reads what it is sent (``NoBody``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from eventlet.event import Event
from marshmallow import Schema, fields
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from prometheus_client import Counter, Histogram
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as NoRoute
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from contracts.api.base import NoBody
from services.eventcore.commands import IDEMPOTENCY_KEY, Command, CommandEntrypoint
from services.servicekit.errors import ServiceError
from services.servicekit.fairness import FairSlots, KnownCallers
from services.servicekit.payloads import load
from services.servicekit.rpc import keyed_digest

log = logging.getLogger("servicekit.http")

PROBLEM = "application/problem+json"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_BODY = 256 * 1024
#: No request of ours nests beyond a few levels; a deeper body is refused before the
#: RPC's own JSON encoding (recursive) could overflow on it.
MAX_DEPTH = 32
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
MAX_IDEMPOTENCY_KEY = 255
#: The status logged and counted for a read whose client was gone when its turn came
#: (nginx's "client closed request"; read only by a client that half-closed).
CLIENT_GONE = 499
#: Printable ASCII but the comma: a header sent twice reaches us as its two values
#: joined by a comma, which must not read as one key.
_KEY_CHARACTERS = re.compile(r"^[\x20-\x2b\x2d-\x7e]+$")
_PATH_PARAM = re.compile(r"{(\w+)}")

#: Who may call a route (``Route.acting``):
#: - ``public``: anyone (health, the OpenAPI document);
#: - ``organisation``: the organisation's key, acting for itself or one of its members;
#: - ``member``: the organisation's key *and* ``X-Acting-Member``: private content (R8);
#: - ``operator``: the platform operator's key; ``moderator``: a moderator's credential.
ACTING = ("public", "organisation", "member", "operator", "moderator")

HTTP_REQUESTS = Counter(
    "http_requests", "HTTP requests answered, by route template and status.",
    ["api", "route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "http_request_seconds", "Time to answer an HTTP request.", ["api", "route", "method"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # OpenAPI template: /v1/members/{member_id}
    operation_id: str
    summary: str
    #: "identity.register_member": the RPC service.method that answers; a tuple of them
    #: for an answer composed of each one's part (keyed by service, in that order).
    target: str | tuple[str, ...] | None = None
    acting: str = "organisation"
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    many: bool = False
    status: int = 200
    tag: str = ""
    description: str = ""
    raw: str | None = None  # a non-JSON response's media type (text/plain for /metrics)
    #: Answered by the edge itself, with no worker and no wait (the metrics page:
    #: scraped, and probed for liveness, however busy the workers are).
    inline: Callable[[], str] | None = None
    #: What of a keyed command's answer may be kept for its retries, on an API whose
    #: commands are applied here (``ApiInfo.commands_here``); all of it by default.
    kept: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"{self.operation_id}: method {self.method!r} not in {METHODS}")
        if self.acting not in ACTING:
            raise ValueError(f"{self.operation_id}: acting {self.acting!r} not in {ACTING}")

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    @property
    def rule(self) -> str:
        return _PATH_PARAM.sub(r"<\1>", self.path)


@dataclass(frozen=True)
class ApiInfo:
    name: str  # metrics label and log name: "gateway", "moderation"
    title: str
    version: str
    description: str
    #: The bearer credential this API takes, for the OpenAPI security scheme.
    credential: str = "API key"
    #: Acting-member header, for the partner gateway.
    acting_member_header: str | None = None
    #: The header a command's idempotency key comes in (``eventcore.commands``); read
    #: on all but GET. The gateway's commands are RPC commands, which mark themselves;
    #: an API whose commands are applied by its HTTP worker says ``commands_here``.
    idempotency_header: str | None = None
    #: The HTTP worker applies the commands itself (the moderator API): its units of
    #: work mark a keyed request as the command, and keep its answer.
    commands_here: bool = False


@dataclass
class ApiCall:
    """What the service method gets: the route, the checked ids, the credential and
    acting member, and the payload, validated when first read (``payload``): the
    method authenticates first, so that a stranger learns nothing from a 422."""

    route: Route
    request_id: str
    ids: dict[str, str]
    credential: str | None
    acting_member: str | None
    raw_query: dict[str, Any] = field(default_factory=dict)
    raw_body: Any = None
    query_schema: Schema | None = None
    body_schema: Schema | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    _loaded: dict[str, Any] | None = None

    @property
    def payload(self) -> dict[str, Any] | None:
        """The RPC payload: the body of a command, the filters of a query; a
        ``ServiceError`` 422 naming each bad field."""
        if self._loaded is None:
            if self.body_schema is not None:
                self._loaded = load(self.body_schema, self.raw_body)
            elif self.query_schema is not None:
                self._loaded = load(self.query_schema, self.raw_query)
            else:
                self._loaded = {}
        return self._loaded


def problem(
    status: int, code: str, detail: str, request_id: str, instance: str = "",
    errors: Sequence[Mapping[str, str]] = (), rule: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    titles = {400: "Bad request", 401: "Unauthenticated", 403: "Forbidden", 404: "Not found",
              405: "Method not allowed", 409: "Conflict", 413: "Body too large",
              415: "Unsupported media type", 422: "Invalid request",
              429: "Too many requests", 500: "Internal error",
              502: "Service unavailable", 503: "Service unavailable"}
    body: dict[str, Any] = {
        "type": f"https://mentoring.example/problems/{code}",
        "title": titles.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        "instance": instance,
        "request_id": request_id,
        "errors": [dict(e) for e in errors],
    }
    if rule:
        body["rule"] = rule
    response = Response(json.dumps(body), status=status, content_type=PROBLEM)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class _Refused(Exception):
    """An HTTP-level refusal found before the service method runs."""

    def __init__(
        self, status: int, code: str, detail: str,
        errors: Sequence[Mapping[str, str]] = (), headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors, self.headers = list(errors), dict(headers or {})


class ApiServer(WebServer):
    """nameko's web server with catch-all rules, so that every path and method,
    routed or not, is answered by the API entrypoint (as problem+json)."""

    def make_url_map(self) -> Map:
        url_map = Map()
        for provider in self._providers:
            for rule in provider.get_url_rules():
                rule.endpoint = provider
                url_map.add(rule)
        return url_map


class ApiEntrypoint(CommandEntrypoint, HttpRequestHandler):
    server = ApiServer()

    def __init__(self, routes: Sequence[Route], info: ApiInfo, **kwargs: Any) -> None:
        # A refusal is an answer (a 4xx problem), not a fault: nameko logs expected
        # exceptions as warnings, which the services' log config leaves out (a 5xx
        # ServiceError is logged by ``handle_request`` itself).
        kwargs.setdefault("expected_exceptions", ServiceError)
        super().__init__(",".join(METHODS), "/<path:path>", **kwargs)
        self.routes = list(routes)
        self.info = info
        names = [r.operation_id for r in self.routes]
        if len(names) != len(set(names)):
            raise ValueError(f"{info.name}: duplicate operation ids")
        self.url_map = Map([Rule(r.rule, methods=[r.method], endpoint=r) for r in self.routes])
        self._schemas: dict[type[Schema], Schema] = {}
        self._openapi: str | None = None

    def setup(self) -> None:
        super().setup()
        workers = self.container.max_workers
        self.slots = FairSlots(workers, per_caller=max(1, workers // 2))
        # The service's own KnownCallers, told who each credential is (fairness.py);
        # without one, every credential is one unverified caller.
        self.callers = next((d for d in self.container.dependencies
                             if isinstance(d, KnownCallers)), KnownCallers())

    # -- a keyed request is the command its worker applies (``commands_here``) ----------

    def command(self, worker_ctx: Any) -> Command | None:
        call = worker_ctx.args[0] if worker_ctx.args else None
        if not self.info.commands_here or not isinstance(call, ApiCall) \
                or call.idempotency_key is None:
            return None  # an HTTP request is never delivered twice: only keys make commands
        return self.keyed_command(worker_ctx, call.idempotency_key,
                                  [call.route.operation_id, call.ids, call.raw_body])

    def scope_of(self, worker_ctx: Any) -> str:
        # The caller is her credential here (a moderator's, the operator's): its hash,
        # so that no key is ever another credential's, and no credential is kept.
        credential = worker_ctx.args[0].credential or ""
        return hashlib.sha256(credential.encode("utf-8", "surrogatepass")).hexdigest()

    def digest(self, asked: bytes) -> str:
        return keyed_digest(asked)

    def kept_of(self, worker_ctx: Any) -> Callable[[Any], Any] | None:
        return worker_ctx.args[0].route.kept

    def get_url_rules(self) -> list[Rule]:
        methods = [*METHODS, "HEAD", "OPTIONS"]
        return [Rule("/", methods=methods, defaults={"path": ""}),
                Rule("/<path:path>", methods=methods)]

    def get_url_rule(self) -> Rule:  # nameko's own WebServer would use this one
        return self.get_url_rules()[1]

    def openapi(self) -> str:
        if self._openapi is None:
            self._openapi = json.dumps(openapi_document(self.routes, self.info))
        return self._openapi

    def _schema(self, cls: type[Schema]) -> Schema:
        if cls not in self._schemas:
            self._schemas[cls] = cls()
        return self._schemas[cls]

    # -- one request -----------------------------------------------------------

    def handle_request(self, request: Request) -> Response:
        request.shallow = False  # nameko's WSGI app creates it shallow; we read the body
        started = time.perf_counter()
        given = request.headers.get("X-Request-Id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        route: Route | None = None
        try:
            route, ids = self._match(request)
            if route.operation_id == "openapi":
                response = Response(self.openapi(), status=200, content_type="application/json")
            elif route.inline is not None:
                response = Response(route.inline(), status=200, content_type=route.raw)
            else:
                call = self._call(request, route, ids, request_id)
                response = self._run(call, request)
        except _Refused as refused:
            response = problem(refused.status, refused.code, refused.detail, request_id,
                               request.path, refused.errors, headers=refused.headers)
        except ServiceError as error:
            if error.status >= 500:  # ours (a timeout, a service gone), not the caller's
                log.error("%s %s %s: %s %s", self.info.name, request_id, request.path,
                          error.status, error.detail)
            retry = {"Retry-After": str(error.retry_after)} if error.retry_after else None
            response = problem(error.status, error.code, error.detail, request_id, request.path,
                               error.errors, error.rule, headers=retry)
        except Exception:
            log.exception("%s %s %s: unexpected error", self.info.name, request_id, request.path)
            response = problem(500, "internal_error", "An unexpected error; it is logged under "
                               "this request id.", request_id, request.path)
        response.headers["X-Request-Id"] = request_id
        template = route.path if route else "unmatched"
        seconds = time.perf_counter() - started
        HTTP_REQUESTS.labels(api=self.info.name, route=template, method=request.method,
                             status=str(response.status_code)).inc()
        HTTP_SECONDS.labels(api=self.info.name, route=template,
                            method=request.method).observe(seconds)
        # One line per request: ids and statuses, never a body or a name (R8).
        log.info("%s %s %s %s %d %.1fms", self.info.name, request_id, request.method, template,
                 response.status_code, seconds * 1000)
        return response

    def _match(self, request: Request) -> tuple[Route, dict[str, str]]:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            route, values = adapter.match()
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or ()))
            raise _Refused(405, "method_not_allowed",
                           f"{request.method} is not allowed here; allowed: {allowed}.",
                           headers={"Allow": allowed}) from None
        except NoRoute:
            raise _Refused(404, "not_found", "No such resource.") from None
        ids: dict[str, str] = {}
        for name, value in values.items():
            try:
                ids[name] = str(uuid.UUID(value))
            except ValueError:
                # A malformed id reads exactly like an id that does not exist.
                what = name.removesuffix("_id").replace("_", " ")
                raise _Refused(404, "not_found", f"No such {what}.") from None
        return route, ids

    def _call(self, request: Request, route: Route, ids: dict[str, str],
              request_id: str) -> ApiCall:
        credential = None
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise _Refused(401, "unauthenticated",
                               "Authorization must be 'Bearer <credential>'.",
                               [{"field": "Authorization", "message": "Not a bearer credential."}],
                               headers={"WWW-Authenticate": "Bearer"})
            credential = token.strip()
        if route.acting != "public" and credential is None:
            raise _Refused(401, "unauthenticated", f"This needs {self.info.credential}.",
                           [{"field": "Authorization", "message": "Missing."}],
                           headers={"WWW-Authenticate": "Bearer"})
        acting = None
        if self.info.acting_member_header:
            acting = _canonical_id(request.headers.get(self.info.acting_member_header) or None)
        key = None
        if _takes_idempotency_key(self.info, route):
            key = _idempotency_key(self.info.idempotency_header,
                                   request.headers.get(self.info.idempotency_header))
        raw_query = self._query(request) if route.query is not None else {}
        raw_body, body = None, route.body
        if body is not None:
            raw_body = self._json_body(request)
        elif route.method != "GET":
            # A command that takes nothing still reads what it is sent: a field is
            # named (422), never silently dropped.
            body, raw_body = NoBody, self._json_body(request, required=False)
        return ApiCall(
            route=route, request_id=request_id, ids=ids, credential=credential,
            acting_member=acting, raw_query=raw_query, raw_body=raw_body,
            query_schema=self._schema(route.query) if route.query is not None else None,
            body_schema=self._schema(body) if body is not None else None,
            headers=dict(request.headers), idempotency_key=key,
        )

    @staticmethod
    def _query(request: Request) -> dict[str, Any]:
        try:
            return {k: v if len(v) > 1 else v[0] for k, v in request.args.lists()}
        except UnicodeDecodeError:
            # Raw bytes that are not UTF-8 (a percent-encoded %ff stays the text
            # "%FF", for the schema to refuse): werkzeug cannot read the query at all.
            raise _Refused(400, "malformed_query", "The query string is not UTF-8.",
                           [{"field": "_query", "message": "Not UTF-8."}]) from None

    @staticmethod
    def _json_body(request: Request, required: bool = True) -> Any:
        """The JSON body; ``{}`` for none when none is ``required``."""
        if (request.content_length or 0) > MAX_BODY:
            raise _Refused(413, "body_too_large", f"The body is larger than {MAX_BODY} bytes.")
        raw = request.get_data(cache=False)
        if len(raw) > MAX_BODY:
            raise _Refused(413, "body_too_large", f"The body is larger than {MAX_BODY} bytes.")
        if not raw.strip() and not required:
            return {}
        if not raw.strip():
            raise _Refused(400, "malformed_body", "The body is empty; a JSON object is expected.",
                           [{"field": "_body", "message": "Missing."}])
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _Refused(400, "malformed_body", f"The body is not JSON: {exc}.",
                           [{"field": "_body", "message": "Not JSON."}]) from None
        except RecursionError:  # arrays nested thousands deep: JSON, but not ours to parse
            raise _Refused(400, "malformed_body", "The body nests too deeply.",
                           [{"field": "_body", "message": "Nested too deeply."}]) from None
        refused = _unreadable(body)
        if refused is not None:
            raise refused
        return body

    def _run(self, call: ApiCall, request: Request) -> Response:
        done = Event()

        def handle_result(worker_ctx: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
            self.keep_answer(worker_ctx, result, exc_info)  # a keyed command's, first
            done.send((result, exc_info))
            return result, exc_info

        # Context data travels with every RPC call the worker makes: the key reaches
        # the command (eventcore.commands), and every other call ignores it.
        context_data = {"request_id": call.request_id}
        if call.idempotency_key is not None:
            context_data[IDEMPOTENCY_KEY] = call.idempotency_key
        # A worker in turn among the callers waiting for one (fairness.py).
        caller = self.callers.caller_of(call.credential)
        waited = self.slots.take(caller)
        try:
            if waited and call.route.method == "GET" and _client_gone(request):
                # Its client gave up while it waited: answering it now would take a
                # worker from those still waiting, for nobody (reads only: fairness.py).
                return problem(CLIENT_GONE, "client_closed_request", "The connection was "
                               "closed while the request waited for a worker: it was not "
                               "carried out.", call.request_id, request.path)
            self.container.spawn_worker(self, (call,), {}, context_data=context_data,
                                        handle_result=handle_result)
            result, exc_info = done.wait()
        finally:
            self.slots.give_back(caller)
        if exc_info is not None:
            raise exc_info[1]
        route = call.route
        if route.raw is not None:
            return Response(result, status=route.status, content_type=route.raw)
        if route.status == 204:
            return Response(status=204)
        return Response(json.dumps(result), status=route.status,
                        content_type="application/json")


api = ApiEntrypoint.decorator


def _client_gone(request: Request) -> bool:
    """Whether the client closed its connection: the request was read whole, so its
    socket has nothing to read but the end (or the next request, pipelined)."""
    sock = getattr(request.environ.get("eventlet.input"), "_sock", None)
    raw = getattr(sock, "fd", sock)  # the real socket under eventlet's green one
    if raw is None:
        return False
    try:
        return raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False  # still there, quiet
    except OSError:
        return True  # reset by its peer


def _takes_idempotency_key(info: ApiInfo, route: Route) -> bool:
    """Commands only (not GET), and only those a caller authenticates for."""
    return bool(info.idempotency_header) and route.method != "GET" and route.acting != "public"


def _idempotency_key(header: str, value: str | None) -> str | None:
    """The key as sent, bare or as a quoted string (the IETF draft's ``sf-string``):
    1 to ``MAX_IDEMPOTENCY_KEY`` printable ASCII characters, no comma, sent once."""
    if value is None:
        return None
    key = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY or not _KEY_CHARACTERS.match(key) \
            or key != key.strip():
        raise _Refused(400, "malformed_header",
                       f"{header} must be sent once, as 1 to {MAX_IDEMPOTENCY_KEY} printable "
                       "ASCII characters other than a comma (a UUID is a good one).",
                       [{"field": header, "message": "Not a valid key."}])
    return key


def _canonical_id(value: str | None) -> str | None:
    """An id header in the one spelling the services store (``str(UUID)``), as path
    ids are: ``urn:uuid:``, braced, upper-case or dash-less forms name the same
    member. Anything else passes as sent, and reads as no such member."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


def _unreadable(body: Any) -> _Refused | None:
    """What no schema can see in a parsed body, in one walk (a loop: no recursion to
    overflow), or ``None``:

    - nesting past ``MAX_DEPTH``;
    - a lone surrogate (``"\\ud800"``) in a key or a string: valid JSON, but no
      text. It cannot be encoded, so sealing it (R8) or storing it failed deep in a
      service, a 500; I-JSON (RFC 7493) refuses it too. Named by its dotted path,
      as ``contracts.errors.flatten`` names fields.
    """

    def broken(text: str) -> bool:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False

    pending: list[tuple[str, int, Any]] = [("", 0, body)]
    while pending:
        path, depth, value = pending.pop()
        if isinstance(value, str):
            if broken(value):
                where = path or "_body"
                return _Refused(400, "malformed_body", f"{where} holds a lone surrogate "
                                "(\\ud800-\\udfff), which is not a character.",
                                [{"field": where, "message": "Not Unicode text."}])
            continue
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        if depth + 1 > MAX_DEPTH:
            return _Refused(400, "malformed_body",
                            f"The body nests deeper than {MAX_DEPTH} levels.",
                            [{"field": "_body", "message": "Nested too deeply."}])
        inner = []
        for key, item in items:
            name = str(key).encode("utf-8", "backslashreplace").decode("utf-8")
            where = f"{path}.{name}" if path else name
            inner.append((where, depth + 1, item))
            if isinstance(key, str) and broken(key):
                inner = [(where, depth + 1, key)]  # the key itself is what is refused
                break
        pending.extend(reversed(inner))  # depth first, in the body's order
    return None


# -- OpenAPI ---------------------------------------------------------------------


class Problem(Schema):
    """RFC 9457 problem details, with the fields and the charter rule."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "A stable error code."})
    detail = fields.String(required=True)
    instance = fields.String(required=True)
    request_id = fields.String(required=True)
    errors = fields.List(fields.Dict(keys=fields.String(), values=fields.String()),
                         required=True, metadata={"description": "One entry per bad field: "
                                                  "{field, message}."})
    rule = fields.String(metadata={"description": "The charter rule (R1..R11) that refused it."})


def _own_json_schema(converter: Any, field_obj: Any, **kwargs: Any) -> dict[str, Any]:
    # The catalogue's custom fields know their JSON Schema (contracts.fields).
    custom = getattr(field_obj, "json_schema", None)
    return dict(custom()) if callable(custom) else {}


def openapi_document(routes: Sequence[Route], info: ApiInfo) -> dict[str, Any]:
    plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)
    spec = APISpec(title=info.title, version=info.version, openapi_version="3.1.0",
                   plugins=[plugin], info={"description": info.description})
    plugin.converter.add_attribute_function(_own_json_schema)
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": info.credential}
    )
    spec.components.schema("Problem", schema=Problem)
    problem_ref = {"content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}

    for route in routes:
        operation: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "tags": [route.tag] if route.tag else [],
            "parameters": [],
            "responses": {},
        }
        if route.description:
            operation["description"] = route.description
        for name in route.path_params:
            operation["parameters"].append({
                "name": name, "in": "path", "required": True,
                "schema": {"type": "string", "format": "uuid"},
            })
        if route.query is not None:
            operation["parameters"].append({"in": "query", "schema": route.query})
        if route.acting != "public":
            operation["security"] = [{"bearer": []}]
        if info.acting_member_header and route.acting in ("organisation", "member"):
            operation["parameters"].append({
                "name": info.acting_member_header, "in": "header",
                "required": route.acting == "member",
                "schema": {"type": "string", "format": "uuid"},
                "description": ("The member this request acts for (R8: required for what is "
                                "private to a member or a pair)." if route.acting == "member"
                                else "Optional: the member this request acts for."),
            })
        if _takes_idempotency_key(info, route):
            operation["parameters"].append({
                "name": info.idempotency_header, "in": "header", "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY,
                           "pattern": "^[!-+\\--~]([ -+\\--~]*[!-+\\--~])?$"},
                "description": (
                    "Optional: a key of the caller's choosing (a UUID, a new one for each "
                    "request) that makes sending this request again safe. The request is "
                    "carried out once; sent again with the same key, by the same caller "
                    + ("(the same acting member, or the organisation itself)"
                       if info.acting_member_header else "(the same credential)")
                    + ", it answers "
                    "what it answered the first time and changes nothing (while the first "
                    "sending is still being carried out: a 409 with Retry-After, to send "
                    "it again a second later; if its service stopped before answering: "
                    "a 409 without, its answer lost). The same key with another "
                    "request is a 422"
                    + ("" if info.commands_here else " (a key used on one resource and "
                       "then on another of a different kind may go unnoticed)")
                    + ". A key is remembered for at least 30 days. No credential is ever "
                    "kept: sent again, a request that issued one answers it as null."),
            })
        if route.body is not None:
            operation["requestBody"] = {
                "required": True, "content": {"application/json": {"schema": route.body}},
            }
        elif route.method != "GET":
            operation["requestBody"] = {  # takes nothing: none, or {} (NoBody)
                "required": False, "description": "None, or an empty object.",
                "content": {"application/json": {"schema": {
                    "type": "object", "maxProperties": 0, "additionalProperties": False}}},
            }
        if route.raw is not None:
            success: dict[str, Any] = {"description": "OK",
                                       "content": {route.raw: {"schema": {"type": "string"}}}}
        elif route.status == 204:
            success = {"description": "Done, nothing to return."}
        elif route.response is not None:
            schema: Any = route.response
            content_schema: Any = ({"type": "array", "items": schema} if route.many else schema)
            success = {"description": "OK",
                       "content": {"application/json": {"schema": content_schema}}}
        else:
            success = {"description": "OK",
                       "content": {"application/json": {"schema": {"type": "object"}}}}
        operation["responses"][str(route.status)] = success
        errors = {"404": "No such resource (or not yours to see)."}
        if route.acting != "public":
            errors.update({"401": "Missing or invalid credential.",
                           "403": "The acting party may not do this.",
                           "429": "More requests a second than the acting party may send: "
                                  "not carried out; send it again after Retry-After "
                                  "seconds."})
        if route.body is not None or route.query is not None or route.method != "GET":
            errors.update({"400": "The body is not JSON, or no text, or nested too deeply; "
                                  "or the query is not UTF-8.",
                           "413": "The body is too large.",
                           "422": "A field is invalid (named in errors)."})
        if route.method != "GET":
            errors.update({"409": "The state moved on (already decided, taken, changed).",
                           "422": "A field is invalid or a charter rule refuses it."})
            if _takes_idempotency_key(info, route):
                errors.update({
                    "400": errors.get("400", "Malformed request.").rstrip(".")
                    + f"; or the {info.idempotency_header} is malformed.",
                    "409": errors["409"].rstrip(".") + f"; or, sent again with its "
                    f"{info.idempotency_header}, still being carried out (Retry-After), "
                    "or carried out with its answer lost.",
                    "422": errors["422"].rstrip(".") + f"; or the {info.idempotency_header} "
                    "was used for another request."})
        for status, description in sorted(errors.items()):
            operation["responses"][status] = {"description": description, **problem_ref}
        if "429" in errors:
            operation["responses"]["429"]["headers"] = {"Retry-After": {
                "description": "Whole seconds until the party may send again.",
                "schema": {"type": "integer", "minimum": 1}}}
        spec.path(path=route.path, operations={route.method.lower(): operation})
    return spec.to_dict()
