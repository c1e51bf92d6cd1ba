"""
The one exception tree of the worker.

Third-party exceptions (socket, http.client, redis, feedparser, archive readers) are
translated at the boundary with ``raise X(...) from exc``, so code past the
edges only ever sees these types::

    IngestError
    ├── ConfigError             a setting is malformed or out of range: exit 2
    ├── TransientError          retry later: it may succeed
    │   ├── FetchTimeout        connect/read timeout, trickling server
    │   ├── FetchConnectionError reset, refused, DNS failure
    │   ├── ServerBusy          429 and 5xx (carries retry_after_s)
    │   ├── RobotsUnavailable   robots.txt unreachable: disallow all for now (carries retry_after_s)
    │   └── StoreUnavailable    Redis/SQLite temporarily unreachable
    └── PermanentError          never retried: log, count, dead-letter
        ├── BlockedURL          SSRF guard, scheme not allowed, robots.txt
        ├── HTTPStatusError     other 4xx (410 Gone included)
        ├── BodyTooLarge        body over INGEST_MAX_BODY_BYTES
        ├── UnsupportedContent  binary or unknown content type
        ├── ParseError          feed/page/archive record cannot be read
        └── SourceError         a source given to the CLI cannot be opened
"""

from __future__ import annotations


class IngestError(Exception):
    """Base of every error the worker raises on purpose."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class ConfigError(IngestError):
    """A setting is malformed, out of range or breaks a relation; its str is one line naming the variable."""


class TransientError(IngestError):
    """A failure that may go away: retried with backoff."""


class FetchTimeout(TransientError):
    """The server did not connect or answer in time."""


class FetchConnectionError(TransientError):
    """The connection failed or was reset."""


class ServerBusy(TransientError):
    """A 429 or 5xx answer; `retry_after_s` comes from the `Retry-After` header."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.retry_after_s = retry_after_s


class RobotsUnavailable(TransientError):
    """
    The host's robots.txt could not be fetched (5xx, 429, network): nothing of it may be fetched now.

    RFC 9309 §2.3.1.4; `retry_after_s` is when it will be asked for again.
    """

    def __init__(self, message: str, *, url: str | None = None, retry_after_s: float) -> None:
        super().__init__(message, url=url)
        self.retry_after_s = retry_after_s


class StoreUnavailable(TransientError):
    """The state store or broker could not be reached."""


class PermanentError(IngestError):
    """A failure that retrying cannot fix."""


class BlockedURL(PermanentError):
    """The URL is refused: private address, scheme, or robots.txt."""


class HTTPStatusError(PermanentError):
    """A 4xx answer other than 429."""

    def __init__(self, message: str, *, url: str | None = None, status: int) -> None:
        super().__init__(message, url=url)
        self.status = status


class BodyTooLarge(PermanentError):
    """The body exceeded the configured cap."""


class UnsupportedContent(PermanentError):
    """The content type is not something the pipeline can read."""


class ParseError(PermanentError):
    """A feed, page or archive record cannot be parsed."""


class SourceError(PermanentError):
    """A source named on the command line cannot be opened."""
