"""Domain errors. Each carries its HTTP status; one handler in app.py turns them into JSON.

    NNServeError (500)
    ├── BadRequest (400)             malformed request, bad tensor (V2)
    ├── ModelControlOff (403)        the repository API while NNSERVE_MODEL_CONTROL=none
    ├── NotFound (404)
    │   └── ModelNotFound            no such model or version
    ├── PayloadTooLarge (413)        body or image over a limit
    ├── UnsupportedMediaType (415)   not an image / unknown content type
    ├── Unprocessable (422)          well-formed but unusable (v1 validation, blank image)
    └── Unavailable (503)
        ├── ModelNotReady            model failed to load or is warming up
        ├── Overloaded               the model's infer queue is full (Retry-After: 1)
        └── QueueTimeout             waited in the queue past its parameters.timeout

Domain code never imports HTTP types: it raises these. The v1 API answers 422 where V2
answers 400 for the same bad tensor; `with_status` re-raises with another code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class NNServeError(Exception):
    """Base of every error the service answers deliberately."""

    status_code = 500
    headers: ClassVar[Mapping[str, str] | None] = None
    """Extra response headers this error is answered with (Retry-After for Overloaded)."""

    def __init__(self, message: str, *, status_code: int | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        self.details = details
        if status_code is not None:
            self.status_code = status_code

    def with_status(self, status_code: int) -> NNServeError:
        """The same error answered with another status (v1's 422 for V2's 400)."""
        return type(self)(self.message, status_code=status_code, details=self.details)


class BadRequest(NNServeError):
    status_code = 400


class ModelControlOff(NNServeError):
    status_code = 403


class NotFound(NNServeError):
    status_code = 404


class ModelNotFound(NotFound):
    pass


class PayloadTooLarge(NNServeError):
    status_code = 413


class UnsupportedMediaType(NNServeError):
    status_code = 415


class Unprocessable(NNServeError):
    status_code = 422


class Unavailable(NNServeError):
    status_code = 503


class ModelNotReady(Unavailable):
    pass


class Overloaded(Unavailable):
    # one batch queue drains in well under a second
    headers: ClassVar[Mapping[str, str] | None] = {"retry-after": "1"}


class QueueTimeout(Unavailable):
    pass
