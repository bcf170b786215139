"""The advertised input schemas: flat and portable, generated through pydantic's own extension point.

What hosts and model providers accept (see tests/test_schema_portability.py): an object with plain properties, no
titles, no `$ref`, no `default`, and an optional parameter that is simply not required, never "X or null".
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

# Parameters every tool shares; listed after each tool's own.
SHARED_LAST = ("Profile-Key",)


class FlatToolSchema(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        # Optional means "may be left out": null is never a value a model should send.
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        # Defaults are for the model to read, so the descriptions say them; not every host accepts the keyword.
        return self.generate_inner(schema["schema"])

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        generated = super().generate(schema, mode)
        generated.pop("title", None)
        if "$defs" in generated:
            raise TypeError("tool arguments must be flat: no nested models")
        properties = generated.get("properties", {})
        generated["properties"] = {
            **{name: prop for name, prop in properties.items() if name not in SHARED_LAST},
            **{name: properties[name] for name in SHARED_LAST if name in properties},
        }
        return generated


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """What the tool accepts: its argument model, flat, with every constraint. Arguments are validated by the model
    itself; this is the schema the tests generate arguments from."""
    return model.model_json_schema(by_alias=True, schema_generator=FlatToolSchema)


# Left out of what `tools/list` advertises: a host puts every listed schema in every conversation, and a regular
# expression costs a model tokens while telling it less than the description's example does. The server still
# enforces each one, and its error quotes the pattern and the description.
_NOT_ADVERTISED = frozenset({"pattern"})


def advertised(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema `tools/list` shows: what the tool accepts, less what the server checks and explains itself."""
    trimmed: dict[str, Any] = _without(schema, _NOT_ADVERTISED)
    return trimmed


def _without(value: Any, keywords: frozenset[str]) -> Any:
    if isinstance(value, dict):
        # A property may be named like a keyword ("pattern"): only keywords of a schema are dropped, never names.
        return {
            key: (
                {name: _without(sub, keywords) for name, sub in item.items()}
                if key == "properties"
                else _without(item, keywords)
            )
            for key, item in value.items()
            if key == "properties" or key not in keywords
        }
    if isinstance(value, list):
        return [_without(item, keywords) for item in value]
    return value
