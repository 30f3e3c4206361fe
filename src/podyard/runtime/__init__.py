"""Runtime drivers behind one Protocol: podman (default) and fake (unit tests only)."""
