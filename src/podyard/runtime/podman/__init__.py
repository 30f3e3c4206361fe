"""The Podman driver: a private ``podman system service`` and its libpod REST API."""
