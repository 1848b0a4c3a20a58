"""The scripts of a first visit go out brotli-compressed at the highest level once compressed (precompressed.py): an
officer on a slow intranet link loads a quarter fewer bytes, and the file is the same once decoded."""

from __future__ import annotations

from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parent.parent
PLOTLY = "/_dash-component-suites/plotly/package_data/plotly.min.js"  # where dcc.Graph loads it from (app.py)


def test_a_static_file_goes_out_small_and_whole(app_module, client):
    server = app_module.server
    original = (ROOT / "assets" / "plotly.min.js").read_bytes()
    first = client.get(PLOTLY, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert first.status_code == 200
    per_request = len(first.get_data())  # flask-compress's fast level, or the kept file of an earlier run

    server.extensions["precompressed"].warm(server, [PLOTLY])
    kept = client.get(PLOTLY, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert kept.headers["Content-Encoding"] == "br" and "Accept-Encoding" in kept.headers["Vary"]
    body = kept.get_data()
    assert brotli.decompress(body) == original
    assert len(body) <= per_request and len(body) < 0.25 * len(original)  # 3.1 MB -> ~0.69 MB

    # a client that cannot read brotli gets what it can read
    plain = client.get(PLOTLY, headers={"Accept-Encoding": "gzip"})
    assert plain.headers.get("Content-Encoding") != "br"
    assert client.get(PLOTLY, headers={"Accept-Encoding": "identity"}).get_data() == original
