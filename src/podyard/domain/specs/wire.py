"""The base of every request model, and how a validation failure becomes a JD error.

The SDK sends every optional field, null when unset, and newer SDKs add fields.
So a field podyard does not know is fine when null or empty, and a clear 400
when set: podyard never silently ignores what it cannot honour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from podyard.domain import naming
from podyard.domain.errors import InvalidArgument

M = TypeVar("M", bound="WireModel")

# The API's Integer is 32 bits (the SDKs' Integer and int32). A count, page or span of
# seconds past it is refused by name, before it reaches arithmetic (an OFFSET, a date)
# that cannot hold it.
INTEGER_MAX = 2**31 - 1


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {} or value is False


class WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True)

    # Declared fields podyard accepts only empty or null, with the reason it cannot honour them.
    unsupported: ClassVar[Mapping[str, str]] = {}

    @model_validator(mode="after")
    def _refuse_what_cannot_be_honoured(self) -> WireModel:
        for key, value in (self.model_extra or {}).items():
            if not is_empty(value):
                raise PydanticCustomError(
                    "unsupported_field",
                    "unknown field, not supported by podyard: it must be null or left out",
                    {"field": key},
                )
        for name, why in self.unsupported.items():
            if not is_empty(getattr(self, name)):
                alias = type(self).model_fields[name].alias or name
                raise PydanticCustomError(
                    "unsupported_field", "not supported by podyard yet: {why}", {"field": alias, "why": why}
                )
        return self


def field_error(field: str, message: str) -> PydanticCustomError:
    """A whole-model rule's failure that names one of the model's fields (its wire name),
    as a field's own rule would: ``diskSpec.diskSizeGB: ...``. No braces in ``message``."""
    return PydanticCustomError("field_rule", message, {"field": field})


def _checked(error_of: Callable[[str], str | None]) -> Callable[[str], str]:
    def check(value: str) -> str:
        error = error_of(value)
        if error:
            raise ValueError(error)
        return value

    return check


def _flag(v: Any) -> Any:
    """The jdc CLI sends boolean options as the strings it was given ("true")."""
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return v


Flag = Annotated[bool, BeforeValidator(_flag)]

Dns1123Label = Annotated[str, AfterValidator(_checked(naming.dns1123_label_error))]
Dns1123Subdomain = Annotated[str, AfterValidator(_checked(naming.dns1123_subdomain_error))]
Hostname = Annotated[str, AfterValidator(_checked(naming.hostname_error))]
EnvName = Annotated[str, AfterValidator(_checked(naming.env_name_error))]
IPv4 = Annotated[str, AfterValidator(_checked(naming.ipv4_error))]


def _absolute_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError("must be an absolute path (starting with '/')")
    if "\x00" in value:
        raise ValueError("must not contain NUL")
    return value


AbsolutePath = Annotated[str, AfterValidator(_absolute_path)]


def total_length(limit: int, what: str) -> Callable[[list[str] | None], list[str] | None]:
    """The docs bound command and args by the total length of their strings."""

    def check(values: list[str] | None) -> list[str] | None:
        if values is not None and sum(len(v) for v in values) > limit:
            raise ValueError(f"{what} must total at most {limit} characters")
        return values

    return check


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def first_error_message(error: ValidationError) -> str:
    """``podSpec.containers[0].name: must be a DNS-1123 label ...`` for the first failure."""
    errors = error.errors(include_url=False)
    e = errors[0]
    loc = tuple(e["loc"])
    ctx = e.get("ctx") or {}
    if "field" in ctx:
        loc = (*loc, ctx["field"])
    message = e["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if e["type"] == "missing":
        message = "is required"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    where = _path(loc)
    # A whole-request rule names its fields in its own message.
    return f"{where}: {message}{more}" if where else f"{message}{more}"


def parse_body(model: type[M], data: Any, *, prefix: str = "") -> M:
    """Validate a JSON body strictly: JSON types must match (no "1" for 1, no true for 1)."""
    if not isinstance(data, dict):
        raise InvalidArgument("the request body must be a JSON object")
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as e:
        raise InvalidArgument(prefix + first_error_message(e)) from None


def parse_query(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate decoded GET parameters: every value arrives as a string, so coerce."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as e:
        raise InvalidArgument(first_error_message(e)) from None
