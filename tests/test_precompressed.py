"""The scripts of a first visit go out brotli-compressed at the highest level once compressed (precompressed.py): an
officer on a slow intranet link loads a quarter fewer bytes, and the file is the same once decoded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import brotli

from precompressed import Precompressed

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


def test_make_run_compresses_a_first_visits_files_before_serving(tmp_path, client):
    """After a deploy, the first officer to open `/` gets plotly.js brotli-compressed at once (0.69 MB, not the 0.9 MB
    of the fast level), and the server is not compressing it beside that visit: `make run` runs `flask precompress`
    before it starts the server. A second run keeps what is there."""

    def precompress() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app:server", "precompress"],
            cwd=ROOT,
            env={**os.environ, "INSTANCE_PATH": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    assert "已预先压缩" in precompress()
    kept = Precompressed(tmp_path / "compressed")
    counties = "/assets/geo/counties.geojson"
    for path, file in ((PLOTLY, "assets/plotly.min.js"), (counties, "assets/geo/counties.geojson")):
        response = client.get(path, headers={"Accept-Encoding": "identity"})  # the file a visitor's request names
        body = kept._from_disk(kept.version_key(path, response))
        assert body is not None and brotli.decompress(body) == (ROOT / file).read_bytes(), path
    assert "已预先压缩 0 个文件" in precompress()
