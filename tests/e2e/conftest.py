"""The end-to-end ring: a live ``podyard serve`` on real Podman, local registries serving a
test image built from Debian's busybox-static, and the official SDK."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from drive.harness import Podyard, Registry, unmount_under


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = Registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


PRIVATE_USER, PRIVATE_PASSWORD = "alice", "pw-" + os.urandom(6).hex()


@pytest.fixture(scope="session")
def private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = Registry(tmp_path_factory.mktemp("private-registry"), PRIVATE_USER, PRIVATE_PASSWORD)
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def private_image(private_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> str:
    scratch = tmp_path_factory.mktemp("private-image")
    try:
        return private_registry.push_busybox(scratch, "team/private:1")
    finally:
        unmount_under(scratch)


@pytest.fixture(scope="session")
def image(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> str:
    scratch = tmp_path_factory.mktemp("image")
    try:
        return registry.push_busybox(scratch)
    finally:
        unmount_under(scratch)


@pytest.fixture(scope="session")
def podyard(
    registry: Registry, private_registry: Registry, image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Podyard]:
    server = Podyard(tmp_path_factory.mktemp("podyard") / "data", [registry, private_registry])
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
