"""The one error hierarchy of podyard.

Every error carries the JD envelope's ``code`` (the HTTP status) and ``status``
(the JD status word) as class attributes; ``api/envelope.py`` renders them, and
nothing else does.
"""

from __future__ import annotations


class ApiError(Exception):
    http_status = 500
    status = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(ApiError):
    http_status = 400
    status = "INVALID_ARGUMENT"


class OutOfRange(ApiError):
    http_status = 400
    status = "OUT_OF_RANGE"


class FailedPrecondition(ApiError):
    """The resource is not in a state that allows the action (wrong phase, billing)."""

    http_status = 400
    status = "FAILED_PRECONDITION"


class Unauthenticated(ApiError):
    http_status = 401
    status = "UNAUTHENTICATED"


class Forbidden(ApiError):
    http_status = 403
    status = "HTTP_FORBIDDEN"


class NotFound(ApiError):
    http_status = 404
    status = "NOT_FOUND"


class MethodNotAllowed(ApiError):
    http_status = 405
    status = "METHOD_NOT_ALLOWED"


class AlreadyExists(ApiError):
    http_status = 409
    status = "ALREADY_EXISTS"


class PayloadTooLarge(ApiError):
    http_status = 413
    status = "PAYLOAD_TOO_LARGE"


class QuotaExceeded(ApiError):
    http_status = 429
    status = "QUOTA_EXCEEDED"


class RateLimited(ApiError):
    """Too many requests in a while; the same request later succeeds."""

    http_status = 429
    status = "RATE_LIMIT"


class Internal(ApiError):
    http_status = 500
    status = "INTERNAL"


class NotImplementedAction(ApiError):
    """An action the SDK knows and podyard does not serve (yet): loud, never a fake success."""

    http_status = 501
    status = "NOT_IMPLEMENTED"


class Unavailable(ApiError):
    http_status = 503
    status = "UNAVAILABLE"
