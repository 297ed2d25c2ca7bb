"""How the gateway's OpenAPI contract is built: drf-spectacular's document of the gateway's own routes, the services'
generated documents for the routes it passes through, and what the gateway adds to every operation.

drf-spectacular calls postprocess() last (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) when
`manage.py spectacular` runs; `./manage_all.sh openapi` writes apidocs/gateway.yaml that way, after the
services' own documents, and tests/gateway/test_openapi.py fails when the file and the code differ.

- The gateway's own routes (the API root, auth/token, the aggregate) come from their DRF views and
  serializers, as a service's do.
- /api/users/… and /api/products/… are the services' operations as their documents state them
  (SERVICE_CONTRACTS: docs/openapi/users.yaml and products.yaml, in the repository and not in the image:
  the gateway serves the committed file and never builds it at run time), minus what only a caller of the
  service itself meets (the service credential's 401, a non-staff session's 403).
- Every operation then gets the gateway's answers: a token or a session (401), the rate limit (429 and the
  RateLimit headers), the CSRF check of a session's writes (403), the services' failures (502, 503, 504),
  and X-Request-ID on every response.
"""

from pathlib import Path

import yaml

from django.conf import settings

# The access step's rules for the gateway's own routes (access.routes, access.step): token creation asks for no
# credential (it is metered per address); the aggregate calls both services.
PUBLIC_OPERATIONS = frozenset({"token_create"})
SERVICE_CALLING_OPERATIONS = frozenset({"user_product_retrieve"})
UPSTREAM_FAILURES = {"502": "BadGateway", "503": "ServiceUnavailable", "504": "GatewayTimeout"}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
# What only a direct caller of a service meets: the service credential (401) and a non-staff session (403).
SERVICE_ONLY_STATUSES = ("401", "403")
ERROR = {"$ref": "#/components/schemas/Error"}
REQUEST_ID = {"X-Request-ID": {"$ref": "#/components/headers/RequestId"}}
RATE_LIMIT = {
    "RateLimit-Policy": {"$ref": "#/components/headers/RateLimitPolicy"},
    "RateLimit": {"$ref": "#/components/headers/RateLimit"},
}


def postprocess(result: dict, generator, request, public) -> dict:
    """The drf-spectacular hook: the gateway's document, built as the module docstring says."""
    services = {name: yaml.safe_load(Path(path).read_text()) for name, path in settings.SERVICE_CONTRACTS.items()}
    paths = {template: ("gateway", item) for template, item in result["paths"].items()}
    for service, document in services.items():
        for template, item in document["paths"].items():
            paths[template] = (service, item)
    result["paths"] = {
        template: {method: _with_gateway_answers(template, method, op, origin) for method, op in item.items()}
        for template, (origin, item) in sorted(paths.items())
    }
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for service, document in services.items():
        for name, schema in document["components"]["schemas"].items():
            if schemas.setdefault(name, schema) != schema:
                raise ValueError(f"The schema {name} of the {service} service differs from another of that name.")
    schemas.update(OWN_SCHEMAS)
    components["securitySchemes"] = security_schemes()
    components["responses"] = RESPONSES
    components["headers"] = HEADERS
    result["security"] = [{"ApiToken": []}, {"SessionCookie": []}]
    return {key: result[key] for key in ("openapi", "info", "paths", "components", "security", "tags") if key in result}


def _with_gateway_answers(template: str, method: str, operation: dict, origin: str) -> dict:
    operation = dict(operation)
    responses = dict(operation["responses"])
    public = operation["operationId"] in PUBLIC_OPERATIONS
    if origin != "gateway":
        for status in SERVICE_ONLY_STATUSES:
            responses.pop(status, None)
    if "requestBody" in operation:
        responses.setdefault("400", {"$ref": "#/components/responses/BadRequest"})
        responses.setdefault("413", {"$ref": "#/components/responses/PayloadTooLarge"})
        responses.setdefault("415", {"$ref": "#/components/responses/UnsupportedMediaType"})
    if "{id}" in template:
        responses.setdefault("400", {"$ref": "#/components/responses/UnsafePath"})
    if not public:
        responses.setdefault("401", {"$ref": "#/components/responses/Unauthorized"})
        if method in WRITE_METHODS:
            responses["403"] = {"$ref": "#/components/responses/CsrfFailed"}
    responses["429"] = {"$ref": "#/components/responses/RateLimited"}
    if origin != "gateway" or operation["operationId"] in SERVICE_CALLING_OPERATIONS:
        responses.update(
            {status: {"$ref": f"#/components/responses/{name}"} for status, name in UPSTREAM_FAILURES.items()}
        )
    for status, response in responses.items():
        if "$ref" not in response:
            headers = {**REQUEST_ID, **(RATE_LIMIT if status.startswith("2") else {})}
            responses[status] = {**response, "headers": {**response.get("headers", {}), **headers}}
    operation["responses"] = dict(sorted(responses.items()))
    operation.pop("security", None)
    if public:
        operation["security"] = []
    return operation


def security_schemes() -> dict:
    return {
        "ApiToken": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <key>`, with a key from POST /api/auth/token/ or the /tokens/ page (40 URL-safe characters). "
                'In Swagger UI\'s "Authorize", type the word Token, a space, then the key.'
            ),
        },
        "SessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": (
                "The session of a person logged in at /api-auth/login/ (the browsable API, Swagger UI). Metered "
                "with the tokens of the same API client; a write must also send the CSRF token (X-CSRFToken)."
            ),
        },
    }


def _error(description: str, *headers: str) -> dict:
    extra = {name: {"$ref": f"#/components/headers/{name.replace('-', '')}"} for name in headers}
    return {
        "description": description,
        "headers": {**REQUEST_ID, **extra},
        "content": {"application/json": {"schema": ERROR}},
    }


OWN_SCHEMAS = {
    "UserProduct": {
        "type": "object",
        "description": "One user and one product, each as its service answers it.",
        "properties": {
            "user": {"$ref": "#/components/schemas/UserOutput"},
            "product": {"$ref": "#/components/schemas/ProductOutput"},
        },
        "required": ["user", "product"],
    }
}
RESPONSES = {
    "BadRequest": _error('Invalid input (code "invalid"): `detail` maps each field to its errors.'),
    "UnsafePath": _error('The gateway refuses a path segment it would not forward (code "unsafe_path").'),
    "Unauthorized": {
        **_error(
            'No token or session ("not_authenticated"), a malformed or unknown token ("authentication_failed"), '
            'or an expired one ("token_expired").'
        ),
        "headers": {**REQUEST_ID, "WWW-Authenticate": {"$ref": "#/components/headers/WwwAuthenticate"}},
    },
    "CsrfFailed": _error('A session\'s write without its CSRF token (code "csrf_failed"); a token needs none.'),
    "PayloadTooLarge": _error("The request body is larger than MAX_REQUEST_BODY_BYTES (64 KiB by default)."),
    "UnsupportedMediaType": _error("The body is not application/json."),
    "RateLimited": _error(
        'Over the client\'s limit ("rate_limited"), too many failed authentication attempts from this address, '
        'or, with RATE_LIMIT_FAIL_OPEN off, Redis is unreachable ("rate_limiter_unavailable").',
        "Retry-After",
        "RateLimit-Policy",
        "RateLimit",
    ),
    "BadGateway": _error(
        'A service could not be reached ("upstream_unavailable") or answered nonsense ("upstream_bad_response"); '
        "`detail.service` names it."
    ),
    "ServiceUnavailable": _error(
        'A service is at capacity ("upstream_busy"), or answered that it cannot serve right now ("upstream_degraded",'
        " with its reason in `detail.reason`); `detail.service` names it.",
        "Retry-After",
    ),
    "GatewayTimeout": _error('A service did not answer in time ("upstream_timeout"); `detail.service` names it.'),
}
HEADERS = {
    "RequestId": {
        "description": "The request's id, from a well-formed X-Request-ID sent by the client or minted here.",
        "schema": {"type": "string"},
    },
    "RateLimitPolicy": {
        "description": 'The limit that applies, e.g. `"read";q=600;w=60`. Absent for unlimited clients.',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of it, e.g. `"read";r=599;t=1`. Absent for unlimited clients.',
        "schema": {"type": "string"},
    },
    "RetryAfter": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "WwwAuthenticate": {
        "description": "The scheme to authenticate with.",
        "required": True,
        "schema": {"type": "string", "enum": ['Token realm="api"']},
    },
}
