"""How a failed pass is retried: a temporary failure (the runtime refused or was
unreachable) is tried again with back-off; a permanent one cannot heal by retrying and
is shown on the pod instead, until a user action changes the pod."""

from __future__ import annotations


class PermanentFailure(Exception):
    """Retrying cannot help; ``reason`` and ``message`` go on the pod (phase error)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
