"""podyard's settings: command-line flags, then ``PODYARD_*`` environment variables, then
a TOML config file (``--config``/``PODYARD_CONFIG``, default ``DATA_DIR/podyard.toml``),
then defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from podyard.domain.quotas import DEFAULT_LIMITS, ResourceType
from podyard.domain.regions import Region, region_with_default_azs


def default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/podyard")
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "podyard"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PODYARD_", extra="forbid")

    listen: str = "127.0.0.1:8000"
    data_dir: Path = Field(default_factory=default_data_dir)
    region: str = "cn-north-1"
    # Where clients reach this podyard, if not at the listen address (behind a proxy).
    endpoint: str | None = None
    database_url: str | None = None
    runtime: str = "podman"
    podman: str = "podman"
    # Pod subnets come from this pool, one block per subnet; keep it host-local.
    network_pool: str = "10.224.0.0/16"
    subnet_prefix: int = 24
    # Elastic IPs come from this pool. The default lives on the host's loopback (reached from
    # this host only); a real deployment gives a routed range. Keep it host-local in tests.
    elastic_ip_pool: str = "127.100.0.0/24"
    # Host-local addresses the host routes elastic IPs of a loopback pool by (the first
    # is the host's end of every VPC uplink). Give each podyard on a host its own pools.
    elastic_ip_inner_pool: str = "10.226.0.0/16"
    # Names what podyard makes on the host (namespaces, interfaces, nftables tables);
    # by default derived from the data directory, so instances never share names.
    network_instance: str | None = None
    pids_limit: int = 1024
    # Each pod's own user-namespace range (Podman's userns=auto, from the subordinate IDs
    # of the user "containers" in /etc/subuid and /etc/subgid): uids 0..size-1 in a pod.
    userns_size: int = Field(default=65536, ge=1024)
    quota_pod: int = DEFAULT_LIMITS[ResourceType.POD]
    quota_container: int = DEFAULT_LIMITS[ResourceType.CONTAINER]
    quota_secret: int = DEFAULT_LIMITS[ResourceType.SECRET]
    insecure_registries: list[str] = Field(default_factory=list)
    # base64 of 32 bytes; without it, DATA_DIR/secret.key is made on first start.
    secret_key: str | None = None
    restart_backoff_seconds: float = 1.0
    restart_backoff_max_seconds: float = 300.0
    resync_seconds: float = 10.0
    exec_idle_seconds: float = 900.0
    exec_per_container: int = 8
    exec_per_account: int = 32
    exec_id_ttl_seconds: float = 300.0
    signature_window_seconds: int = 900
    max_body_bytes: int = 2 * 1024 * 1024
    log_level: str = "info"

    @field_validator("listen")
    @classmethod
    def _host_port(cls, v: str) -> str:
        host, _, port = v.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("must be HOST:PORT")
        return v

    @property
    def instance_name(self) -> str:
        return self.network_instance or str(self.data_dir.resolve())

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def public_endpoint(self) -> str:
        """host:port as the SDK's Config(endpoint=...) takes it."""
        return self.endpoint or self.listen

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'podyard.db'}"

    @property
    def served_region(self) -> Region:
        return region_with_default_azs(self.region)

    def quota_defaults(self) -> dict[str, int]:
        return {
            ResourceType.POD: self.quota_pod,
            ResourceType.CONTAINER: self.quota_container,
            ResourceType.SECRET: self.quota_secret,
        }

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Settings from flags (those not None), the environment and the config file."""
    given = {k: v for k, v in flags.items() if v is not None}
    named = config_file or os.environ.get("PODYARD_CONFIG")
    path = Path(named) if named else None
    if path is None:
        data_dir = given.get("data_dir") or os.environ.get("PODYARD_DATA_DIR") or default_data_dir()
        candidate = Path(data_dir) / "podyard.toml"
        path = candidate if candidate.exists() else None
    elif not path.exists():
        raise SystemExit(f"config file {path} does not exist")
    if path is None:
        return Settings(**given)

    class FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    return FromFile(**given)
