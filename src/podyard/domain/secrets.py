"""Registry secrets (type docker-registry): their rules, and the credentials they carry."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

SECRET_TYPE = "docker-registry"
DATA_KEY = re.compile(r"^[A-Za-z0-9._-]+$")
DATA_FIELDS = ("server", "username", "password", "email")
REQUIRED_FIELDS = ("server", "username", "password")
VALUE_MAX = 4 * 1024
DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")


@dataclass(frozen=True)
class RegistryAuth:
    server: str
    username: str
    password: str

    def __repr__(self) -> str:  # never print a password
        return f"RegistryAuth(server={self.server!r}, username={self.username!r}, password=***)"


def decode_value(value: str) -> str:
    """A data value as the docs want it: base64 of UTF-8, on one line."""
    if "\n" in value or "\r" in value:
        raise ValueError("must be base64 without line breaks (base64 -w 0)")
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("must be base64 of UTF-8 text") from None


def registry_host(server: str) -> str:
    """``https://registry.example:5000/v2/`` → ``registry.example:5000``; Docker Hub's
    names → ``docker.io``."""
    host = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", server.strip()).split("/", 1)[0].lower()
    return "docker.io" if host in DOCKER_HUB else host


@dataclass(frozen=True)
class SecretRecord:
    name: str
    secret_type: str
    created_at: datetime
    data: dict[str, str]  # the values as given: base64 text

    def auth(self) -> RegistryAuth:
        """The credentials this secret carries, decoded (its data was checked when made)."""
        return RegistryAuth(
            server=registry_host(decode_value(self.data["server"])),
            username=decode_value(self.data["username"]),
            password=decode_value(self.data["password"]),
        )
