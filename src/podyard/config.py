"""podyard's settings: command-line flags, then ``PODYARD_*`` environment variables, then
a TOML config file (``--config``/``PODYARD_CONFIG``, default ``DATA_DIR/podyard.toml``),
then defaults."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from podyard.domain.quotas import DEFAULT_LIMITS, ResourceType
from podyard.domain.regions import Region, region_with_default_azs
from podyard.domain.registries import DEFAULT_DENY, RegistryPolicy, parse_entry


def default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/podyard")
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "podyard"


RUNTIMES = ("podman",)


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 and ::1 (bracketed or not); an unspecified address
    (0.0.0.0, ::) listens on every interface and is not loopback."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PODYARD_", extra="forbid")

    listen: str = "127.0.0.1:8000"
    data_dir: Path = Field(default_factory=default_data_dir)
    region: str = "cn-north-1"
    # Where clients reach this podyard, if not at the listen address (behind a proxy).
    endpoint: str | None = None
    database_url: str | None = None
    # TLS: "auto" serves TLS unless the listen host is loopback; "on" always, "off" never.
    # Without tls_cert/tls_key a CA and a server certificate signed by it are made in
    # DATA_DIR/tls on first start and reused after (podyard/tls.py).
    tls: Literal["auto", "on", "off"] = "auto"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # More names (DNS names or IP addresses) for the generated certificate.
    tls_names: list[str] = Field(default_factory=list)
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
    # Cloud disks are sparse: all disks together may be promised up to this many times
    # what the host can give them (free space of the data directory's filesystem plus what
    # podyard's disk files take there); a disk past that is refused at create time.
    disk_overcommit: float = Field(default=4.0, gt=0)
    # The btrfs pool that holds every disk and snapshot: a sparse file of this many bytes
    # (DATA_DIR/disks/pool.img), costing only what is written to it.
    disk_pool_size: int = Field(default=2 * 1024**4, ge=1024**3)
    insecure_registries: list[str] = Field(default_factory=list)
    # Registries Podman may be sent to (domain/registries.py): names (host, host:port,
    # *.domain) or CIDRs, matched by name and by resolved address. Deny wins; an empty
    # allow list allows any registry not denied. Setting registry_deny replaces the default.
    registry_allow: list[str] = Field(default_factory=list)
    registry_deny: list[str] = Field(default_factory=lambda: list(DEFAULT_DENY))
    registry_resolve_timeout_seconds: float = Field(default=2.0, gt=0)
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
    # Signed requests of one account remembered within the window (replays); past it, 429.
    replay_per_account: int = 50_000
    max_body_bytes: int = 2 * 1024 * 1024
    log_level: str = "info"

    @field_validator("listen")
    @classmethod
    def _host_port(cls, v: str) -> str:
        host, _, port = v.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("must be HOST:PORT")
        return v

    @field_validator("runtime")
    @classmethod
    def _runtime(cls, v: str) -> str:
        if v not in RUNTIMES:
            raise ValueError(
                f"podyard runs pods on {', '.join(RUNTIMES)} only; {v!r} is not available "
                "(the fake runtime of the tests is given in code, not by this setting)"
            )
        return v

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both, or neither for a generated pair")
        if self.tls == "off" and self.tls_cert is not None:
            raise ValueError("tls_cert is given but tls is off")
        return self

    @property
    def serves_tls(self) -> bool:
        """TLS or plain HTTP: "auto" is TLS unless every client must be on this host."""
        if self.tls != "auto":
            return self.tls == "on"
        return not is_loopback(self.host)

    @field_validator("registry_allow", "registry_deny")
    @classmethod
    def _registry_entries(cls, v: list[str]) -> list[str]:
        for entry in v:
            parse_entry(entry)
        return v

    @property
    def registry_policy(self) -> RegistryPolicy:
        return RegistryPolicy.parse(self.registry_allow, self.registry_deny)

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
    try:
        if path is None:
            return Settings(**given)

        class FromFile(Settings):
            model_config = SettingsConfigDict(toml_file=path)

        return FromFile(**given)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg'].removeprefix('Value error, ')}"
            for err in e.errors()
        )
        raise SystemExit(f"podyard: invalid settings: {problems}") from None
