"""The clients and live-service harness that both the test suite and the benchmarks drive
podyard with: the official JD Cloud SDK wrapped as a test or a benchmark talks through it
(jd, jdvpc, jddisk), the WebSocket protocol the ``jdc`` CLI speaks (wsjdc), and a live
``podyard serve`` on real Podman with local registries (harness)."""
