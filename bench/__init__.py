"""Benchmarks: podyard against raw Podman, side by side, in one run (python -m bench.run)."""
