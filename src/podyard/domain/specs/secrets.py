"""createSecret and describeSecrets parameters."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, field_validator
from pydantic_core import PydanticCustomError

from podyard.domain import naming
from podyard.domain.secrets import DATA_FIELDS, DATA_KEY, REQUIRED_FIELDS, VALUE_MAX, decode_value, registry_host
from podyard.domain.specs.actions import PageQuery
from podyard.domain.specs.wire import Dns1123Subdomain, WireModel


def _data(data: dict[str, Any]) -> dict[str, str]:
    """The docs' rules of ``data``, each failure naming its key."""
    for key, value in data.items():
        if not DATA_KEY.match(key):
            raise PydanticCustomError("data_key", "keys are letters, digits, '-', '_' and '.'", {"field": key})
        if key not in DATA_FIELDS:
            raise PydanticCustomError(
                "data_key", "a docker-registry secret holds server, username, password and email only", {"field": key}
            )
        if value is None and key == "email":
            continue
        if not isinstance(value, str):
            raise PydanticCustomError("data_value", "must be a base64 string", {"field": key})
        if len(value) > VALUE_MAX:
            raise PydanticCustomError("data_value", f"must be at most {VALUE_MAX} bytes (4 KB)", {"field": key})
        try:
            text = decode_value(value)
        except ValueError as e:
            raise PydanticCustomError("data_value", str(e), {"field": key}) from None
        if key in REQUIRED_FIELDS and not text.strip():
            raise PydanticCustomError("data_value", "must not be empty", {"field": key})
        if key == "server" and naming.hostname_error(registry_host(text).rsplit(":", 1)[0]):
            raise PydanticCustomError(
                "data_value", "must decode to a registry address such as registry.example:5000", {"field": key}
            )
    for key in REQUIRED_FIELDS:
        if data.get(key) is None:
            raise PydanticCustomError("data_missing", "is required", {"field": key})
    # With four keys of at most 4 KB each, the docs' 256 KB cap on all of data always holds.
    return {k: v for k, v in data.items() if v is not None}


class CreateSecretRequest(WireModel):
    name: Dns1123Subdomain
    secret_type: Literal["docker-registry"]
    data: Annotated[dict[str, Any], AfterValidator(_data)]


class DescribeSecretsQuery(PageQuery):
    @field_validator("filters")
    @classmethod
    def _only_name(cls, filters: Any) -> Any:
        for i, f in enumerate(filters or []):
            if f.name != "name":
                raise ValueError(f"filters[{i}]: the only filter is name")
            if len(f.values) != 1:
                raise ValueError(f"filters[{i}]: the name filter takes one value")
        return filters

    def name_like(self) -> str | None:
        return self.filters[0].values[0] if self.filters else None
