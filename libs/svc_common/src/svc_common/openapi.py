"""OpenAPI for the services (drf-spectacular): the service credential, integer ids and the error shape."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .service_auth import SERVICE_TOKEN_HEADER

# The routers' lookup pattern ([0-9]{1,18}): ids fit a PostgreSQL bigint with room to spare.
MAX_ID = 999_999_999_999_999_999


class ServiceTokenScheme(OpenApiAuthenticationExtension):
    """GatewayAuthentication as an OpenAPI apiKey scheme."""

    target_class = "svc_common.service_auth.GatewayAuthentication"
    name = "ServiceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": SERVICE_TOKEN_HEADER,
            "description": "The credential the gateway presents (SERVICE_AUTH_TOKEN); nobody else holds it.",
        }


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text='Machine-readable, e.g. "not_found" or "invalid".')
    message = serializers.CharField(help_text="For people.")
    detail = serializers.JSONField(allow_null=True, help_text="Field errors or context; null when there is none.")


class ErrorSerializer(serializers.Serializer):
    """The one error shape every project answers with."""

    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "Invalid input: `detail` maps each field to its errors.",
    401: "The X-Service-Token credential is missing or wrong.",
    403: "A session that is not staff.",
    404: "No such object, or no such page.",
    409: "The write conflicts with an existing object (a unique field).",
    413: "The request body is larger than MAX_REQUEST_BODY_BYTES.",
    415: "The body is not application/json.",
}
# Answered by HAProxy in the error shape; a replica reached without HAProxy answers from gunicorn itself
# (limit_request_line, 4094 bytes) as text/html, so no body is promised.
URI_TOO_LONG = {"description": "The URI (path and query string) is longer than 4000 bytes."}


class ServiceAutoSchema(AutoSchema):
    """AutoSchema that declares the errors each operation can answer and the integer range of `{id}`."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if "{id}" in self.path:
            id_schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            parameters = [*parameters, OpenApiParameter("id", id_schema, OpenApiParameter.PATH)]
        return parameters

    def _get_pagination_parameters(self):
        parameters = super()._get_pagination_parameters()
        paginator = self._get_paginator()
        bounds = {"page_query_param": {"minimum": 1}, "page_size_query_param": {"minimum": 1}}
        if getattr(paginator, "max_page_size", None):
            bounds["page_size_query_param"]["maximum"] = paginator.max_page_size
        for parameter in parameters:
            for attribute, limits in bounds.items():
                if parameter["name"] == getattr(paginator, attribute, None):
                    parameter["schema"].update(limits)
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            schema["pattern"] = decimal_pattern(field)
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status_code in self.error_statuses():
            response = self._get_response_for_code(ErrorSerializer, str(status_code), direction=direction)
            responses.setdefault(str(status_code), {**response, "description": ERROR_DESCRIPTIONS[status_code]})
        if self.method == "GET" and "{id}" not in self.path:
            responses.setdefault("414", URI_TOO_LONG)
        return responses

    def error_statuses(self) -> list[int]:
        """The error statuses of this operation, besides the 5xx a broken dependency may cause."""
        statuses = {401, 403}
        if "{id}" in self.path:
            statuses.add(404)
        elif self.method == "GET":
            statuses |= {400, 404}  # a filter value of the wrong type; a page out of range
        if self.method in ("POST", "PUT", "PATCH"):
            statuses |= {400, 409, 413, 415}
        return sorted(statuses)


def decimal_pattern(field: serializers.DecimalField) -> str:
    """ASCII digits only, no exponent, the field's precision; no sign when the minimum is not negative."""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    whole = "[0-9]+" if field.max_digits is None else f"[0-9]{{1,{field.max_digits - (field.decimal_places or 0)}}}"
    fraction = f"(\\.[0-9]{{1,{field.decimal_places}}})?" if field.decimal_places else ""
    return f"^{sign}{whole}{fraction}$"
