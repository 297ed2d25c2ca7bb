"""Serializers drawn from the request bodies of the gateway's contract: DRF's browsable API fills its raw-data form
with one (a blank body to create, the object's current fields to change). They never validate anything: the
service does, and its answer, errors included, is what the page shows."""

import functools
import json

from rest_framework import serializers


@functools.cache
def serializer_for(name: str, schema_json: str) -> type[serializers.Serializer]:
    """A Serializer class with a field per property of a JSON object schema (given as JSON, to be hashable)."""
    schema = json.loads(schema_json)
    required = set(schema.get("required", []))
    fields = {
        field: _field(spec, required=field in required)
        for field, spec in schema.get("properties", {}).items()
        if not spec.get("readOnly")
    }
    return type(name, (serializers.Serializer,), fields)


def _field(spec: dict, *, required: bool) -> serializers.Field:
    kind = spec.get("type")
    if kind == "integer":
        return serializers.IntegerField(required=required)
    if kind == "boolean":
        return serializers.BooleanField(required=required)
    return serializers.CharField(required=required, allow_blank=True)
