"""One incoming AWS request, with its body buffered so rules can read it before moto does."""

from __future__ import annotations

import json
import re
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs

from werkzeug.datastructures import EnvironHeaders
from werkzeug.wsgi import get_input_stream

# "Credential=AKID/20240101/us-west-2/s3/aws4_request" inside a SigV4 Authorization header.
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")

# Headers that vouch for the exact body bytes; stale once a rule rewrites the body.
_BODY_DIGEST_HEADERS = ("HTTP_CONTENT_MD5", "HTTP_X_AMZ_CONTENT_SHA256")


class AwsRequest:
    """The parts of a WSGI request that rules and the request log look at.

    Reading a WSGI body consumes it, so the body is read once here and put back as a fresh
    stream; moto then reads the same bytes (or the bytes a rule replaced them with).
    """

    def __init__(self, environ: dict[str, Any]):
        self.environ = environ
        self.method: str = environ.get("REQUEST_METHOD", "GET").upper()
        # WSGI hands the path over as latin-1-decoded bytes; S3 keys are UTF-8.
        raw_path = environ.get("PATH_INFO", "") or "/"
        self.path: str = raw_path.encode("latin-1").decode("utf-8", "replace")
        self.query: dict[str, list[str]] = parse_qs(
            environ.get("QUERY_STRING", ""), keep_blank_values=True
        )
        self.headers = EnvironHeaders(environ)
        self.body: bytes = get_input_stream(environ).read()
        self._put_body_back(self.body)
        self._json: dict[str, Any] | None = None
        self._form: dict[str, list[str]] | None = None

    # --- who is calling, where -------------------------------------------------------

    @property
    def host(self) -> str:
        return self.headers.get("Host", "")

    @property
    def url(self) -> str:
        query = self.environ.get("QUERY_STRING", "")
        return f"http://{self.host}{self.path}" + (f"?{query}" if query else "")

    def _credential_scope(self) -> tuple[str, str, str] | None:
        match = _CREDENTIAL_SCOPE.search(self.headers.get("Authorization", ""))
        return match.groups() if match else None  # type: ignore[return-value]

    @property
    def signing_service(self) -> str | None:
        scope = self._credential_scope()
        return scope[2].lower() if scope else None

    @property
    def region(self) -> str:
        scope = self._credential_scope()
        return scope[1] if scope else "us-east-1"

    @property
    def access_key(self) -> str | None:
        scope = self._credential_scope()
        return scope[0] if scope else None

    @property
    def target(self) -> str:
        """The ``X-Amz-Target`` header of JSON-protocol calls, e.g. ``AmazonSQS.TagQueue``."""
        return self.headers.get("X-Amz-Target", "")

    # --- body views ----------------------------------------------------------------

    def json_body(self) -> dict[str, Any]:
        """The JSON-protocol body, or {} when the body is not a JSON object."""
        if self._json is None:
            try:
                parsed = json.loads(self.body or b"{}")
            except ValueError:
                parsed = {}
            self._json = parsed if isinstance(parsed, dict) else {}
        return self._json

    def form_params(self) -> dict[str, list[str]]:
        """Query-protocol parameters (``Action=...``) from the query string and a form body."""
        if self._form is None:
            params = dict(self.query)
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("application/x-www-form-urlencoded"):
                form = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
                params.update(form)
            self._form = params
        return self._form

    def form_param(self, name: str) -> str | None:
        values = self.form_params().get(name)
        return values[0] if values else None

    # --- rewriting -----------------------------------------------------------------

    def replace_body(self, body: bytes) -> None:
        """Hand moto different body bytes than the client sent."""
        self.body = body
        self._json = None
        self._form = None
        for key in _BODY_DIGEST_HEADERS:
            self.environ.pop(key, None)
        for key in [k for k in self.environ if k.startswith("HTTP_X_AMZ_CHECKSUM_")]:
            self.environ.pop(key)
        self._put_body_back(body)

    def _put_body_back(self, body: bytes) -> None:
        self.environ["wsgi.input"] = BytesIO(body)
        self.environ["CONTENT_LENGTH"] = str(len(body))
        # The body is now a plain, fully known stream: no chunked framing left to decode.
        self.environ.pop("HTTP_TRANSFER_ENCODING", None)
