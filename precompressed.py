"""Static files (scripts, styles, boundaries) sent brotli-compressed at its highest level, compressed once per file
version and kept on disk in the instance folder.

flask-compress compresses every answer as it goes (zstd level 3: fast enough for callbacks and the API). For the
files every first visit loads (plotly.js alone is 3 MB) the highest brotli level takes a quarter fewer bytes (905 KB
-> 691 KB for plotly.js) but ~6 s of CPU, so it is done once, in the background, and the file is sent from disk
after; until then the file goes as flask-compress sends it. Behind nginx the app compresses nothing of this (nginx
clears Accept-Encoding, deploy/nginx.conf), so this stays out of the way there.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import flask

log = logging.getLogger(__name__)

STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
QUALITY = 11
SMALLEST = 1024  # bytes; below this compression saves next to nothing


class Precompressed:
    """The after-request hook and its store of compressed files (``folder``, one file per file version)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._held: dict[str, bytes] = {}  # version key -> compressed bytes, read from disk once
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    def install(self, server: flask.Flask) -> None:
        """Run before flask-compress's hook (Flask runs after-request hooks last registered first): a response this
        one encodes is left alone by flask-compress."""
        server.after_request(self.after_request)

    @staticmethod
    def version_key(path: str, response: flask.Response) -> str:
        """A file's version: its URL, size and validator (ETag or Last-Modified; Dash's component suites carry their
        version in the URL)."""
        validator = response.headers.get("ETag") or response.headers.get("Last-Modified") or ""
        text = f"{path}|{response.content_length}|{validator}"
        return hashlib.sha256(text.encode()).hexdigest()[:40]

    def after_request(self, response: flask.Response) -> flask.Response:
        request = flask.request
        if (
            request.method != "GET"
            or response.status_code != 200
            or not request.path.startswith(STATIC_PREFIXES)
            or "br" not in request.headers.get("Accept-Encoding", "")
            or "Content-Encoding" in response.headers
            or (response.content_length or 0) < SMALLEST
        ):
            return response
        key = self.version_key(request.path, response)
        compressed = self._held.get(key) or self._from_disk(key)
        if compressed is None:
            response.direct_passthrough = False
            self.compress_later(key, response.get_data())
            return response
        response.direct_passthrough = False
        response.set_data(compressed)
        response.headers["Content-Encoding"] = "br"
        response.headers["Content-Length"] = str(len(compressed))
        response.vary.add("Accept-Encoding")
        return response

    def _from_disk(self, key: str) -> bytes | None:
        path = self.folder / f"{key}.br"
        if not path.exists():
            return None
        data = path.read_bytes()
        self._held[key] = data
        return data

    def compress_later(self, key: str, body: bytes, wait: bool = False) -> None:
        """Compress ``body`` in a thread (one per file version at a time) and keep it on disk; ``wait`` blocks."""
        with self._lock:
            if key in self._busy:
                return
            self._busy.add(key)
        thread = threading.Thread(target=self._compress, args=(key, body), name="precompress", daemon=True)
        thread.start()
        if wait:
            thread.join()

    def _compress(self, key: str, body: bytes) -> None:
        try:
            data = brotli.compress(body, quality=QUALITY)
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f"{key}.{os.getpid()}.tmp"
            tmp.write_bytes(data)
            tmp.replace(self.folder / f"{key}.br")  # whole or not at all, also with several workers
            self._held[key] = data
        except OSError:  # a read-only instance folder: the files go as flask-compress sends them
            log.warning("could not keep a precompressed file in %s", self.folder, exc_info=True)
        finally:
            with self._lock:
                self._busy.discard(key)

    def warm(self, server: flask.Flask, paths: list[str], headers: dict | None = None) -> int:
        """Compress the files a first visit loads, now (the warm-up thread, or `flask precompress` before serving),
        so that the first visitor gets them small too. Returns how many were compressed now (the others were kept)."""
        compressed = 0
        with server.test_client() as client:
            for path in paths:
                response = client.get(path, headers={"Accept-Encoding": "identity", **(headers or {})})
                if response.status_code == 200 and (response.content_length or 0) >= SMALLEST:
                    key = self.version_key(urlsplit(path).path, response)  # as a request's path: no query
                    if self._from_disk(key) is None:
                        self.compress_later(key, response.get_data(), wait=True)
                        compressed += 1
        return compressed
