"""podyard: a self-hosted pod service that speaks the JD Cloud Pod API v1 and runs pods on Podman."""

__version__ = "0.1.0"
