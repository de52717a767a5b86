"""Every pydantic error type and every JSON Schema keyword, mapped to one code.

Both validators report in their own vocabulary; users see one catalogue.
The tables are explicit (not derived) so codes stay stable across library
upgrades, and a test fails when a new error type or keyword appears.
"""

from __future__ import annotations

_UNKNOWN_FIELD = "CH200"
_MISSING = "CH201"
_TYPE = "CH202"
_CHOICE = "CH203"
_RANGE = "CH204"
_STRING = "CH205"
_LENGTH = "CH206"
_FORMAT = "CH207"
_VALUE = "CH208"
_NAN = "CH118"
_CONTRACT = "CH300"

PYDANTIC: dict[str, str] = {
    # fields
    "extra_forbidden": _UNKNOWN_FIELD,
    "no_such_attribute": _UNKNOWN_FIELD,
    "unexpected_keyword_argument": _UNKNOWN_FIELD,
    "unexpected_positional_argument": _UNKNOWN_FIELD,
    "missing": _MISSING,
    "missing_argument": _MISSING,
    "missing_keyword_only_argument": _MISSING,
    "missing_positional_only_argument": _MISSING,
    "missing_sentinel_error": _MISSING,
    # types
    **dict.fromkeys(
        (
            "json_type",
            "model_type",
            "model_attributes_type",
            "dataclass_type",
            "dataclass_exact_type",
            "named_tuple_type",
            "none_required",
            "iterable_type",
            "string_type",
            "dict_type",
            "frozen_dict_type",
            "ordered_dict_type",
            "counter_type",
            "mapping_type",
            "list_type",
            "deque_type",
            "tuple_type",
            "set_type",
            "bool_type",
            "int_type",
            "int_from_float",
            "float_type",
            "bytes_type",
            "date_type",
            "time_type",
            "datetime_type",
            "time_delta_type",
            "frozen_set_type",
            "is_instance_of",
            "is_subclass_of",
            "callable_type",
            "arguments_type",
            "url_type",
            "uuid_type",
            "decimal_type",
            "fraction_type",
            "complex_type",
            "needs_python_object",
            "set_item_not_hashable",
            "invalid_key",
            "iteration_error",
            "get_attribute_error",
            "bool_parsing",
            "int_parsing",
            "float_parsing",
        ),
        _TYPE,
    ),
    # choices
    "literal_error": _CHOICE,
    "enum": _CHOICE,
    "union_tag_invalid": _CHOICE,
    "union_tag_not_found": _MISSING,
    # numbers
    "greater_than": _RANGE,
    "greater_than_equal": _RANGE,
    "less_than": _RANGE,
    "less_than_equal": _RANGE,
    "multiple_of": _RANGE,
    "int_parsing_size": "CH111",
    "finite_number": _NAN,
    "decimal_max_digits": _RANGE,
    "decimal_max_places": _RANGE,
    "decimal_whole_digits": _RANGE,
    # strings
    "string_unicode": _STRING,
    "string_too_short": _STRING,
    "string_too_long": _STRING,
    "string_pattern_mismatch": _STRING,
    "string_not_ascii": _STRING,
    "bytes_too_short": _STRING,
    "bytes_too_long": _STRING,
    "bytes_invalid_encoding": _STRING,
    # collections
    "too_short": _LENGTH,
    "too_long": _LENGTH,
    # formats
    **dict.fromkeys(
        (
            "date_parsing",
            "date_from_datetime_parsing",
            "date_from_datetime_inexact",
            "date_past",
            "date_future",
            "time_parsing",
            "datetime_parsing",
            "datetime_object_invalid",
            "datetime_from_date_parsing",
            "datetime_past",
            "datetime_future",
            "timezone_naive",
            "timezone_aware",
            "timezone_offset",
            "time_delta_parsing",
            "url_parsing",
            "url_syntax_violation",
            "url_too_long",
            "url_scheme",
            "uuid_parsing",
            "uuid_version",
            "decimal_parsing",
            "fraction_parsing",
            "complex_str_parsing",
            "json_invalid",
        ),
        _FORMAT,
    ),
    # rules of the models themselves
    "value_error": _VALUE,
    "assertion_error": _VALUE,
    "frozen_field": _VALUE,
    "frozen_instance": _VALUE,
    "default_factory_not_called": _VALUE,
    "recursion_loop": "CH107",
    "recursion_depth_exceeded": "CH108",
    "multiple_argument_values": _VALUE,
    "ellipsis_error": _VALUE,
}

JSON_SCHEMA: dict[str, str] = {
    "additionalProperties": _UNKNOWN_FIELD,
    "unevaluatedProperties": _UNKNOWN_FIELD,
    "additionalItems": _LENGTH,
    "unevaluatedItems": _LENGTH,
    "propertyNames": _STRING,
    "required": _MISSING,
    "dependentRequired": _MISSING,
    "type": _TYPE,
    "enum": _CHOICE,
    "const": _CHOICE,
    "minimum": _RANGE,
    "maximum": _RANGE,
    "exclusiveMinimum": _RANGE,
    "exclusiveMaximum": _RANGE,
    "multipleOf": _RANGE,
    "minLength": _STRING,
    "maxLength": _STRING,
    "pattern": _STRING,
    "minItems": _LENGTH,
    "maxItems": _LENGTH,
    "minProperties": _LENGTH,
    "maxProperties": _LENGTH,
    "contains": _LENGTH,
    "uniqueItems": _VALUE,
    "format": _FORMAT,
    # Composite keywords: the failing branch is reported when it can be found.
    "allOf": _CONTRACT,
    "anyOf": _CONTRACT,
    "oneOf": _CONTRACT,
    "not": _CONTRACT,
    "if": _CONTRACT,
    "dependentSchemas": _CONTRACT,
    "properties": _CONTRACT,
    "patternProperties": _CONTRACT,
    "items": _CONTRACT,
    "prefixItems": _CONTRACT,
    "$ref": _CONTRACT,
    "$dynamicRef": _CONTRACT,
    "$recursiveRef": _CONTRACT,
}


def for_pydantic(error_type: str) -> str:
    return PYDANTIC.get(error_type, _VALUE)


def for_json_schema(keyword: str) -> str:
    return JSON_SCHEMA.get(keyword, _CONTRACT)
