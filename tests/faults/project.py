"""A tiny project whose variants fail in every way a real one can (stdlib app, fast builds)."""

from __future__ import annotations

from pathlib import Path

APP = """import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer

LABEL = os.environ.get("LABEL", "setosa")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._send({"status": "ok"})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send({"label": LABEL, "class_id": 0})

    def _send(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
"""

_RUNS = 'WORKDIR /app\nCOPY app.py ./\nCMD ["python3", "app.py"]\n'
DOCKERFILES = {
    "good": "FROM python:3.11-slim\n" + _RUNS,
    "slow": "FROM python:3.11-slim\nRUN sleep 8\n" + _RUNS,
    # The sleep comes after the code: an edit re-runs it, so the edit build can be interrupted.
    "slow-edit": "FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py ./\nRUN sleep 6\n"
    'CMD ["python3", "app.py"]\n',
    "syntax": "FROMM python:3.11-slim\n" + _RUNS,
    "failing-run": "FROM python:3.11-slim\nRUN echo about to fail && false\n" + _RUNS,
    "missing-base": "FROM 127.0.0.1:5000/dockerfile-bench-test/missing:1\n" + _RUNS,
    "exits": "FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py ./\n"
    'CMD ["python3", "-c", "print(\'boom: cannot start\'); raise SystemExit(3)"]\n',
    "never-healthy": 'FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py ./\nCMD ["sleep", "3600"]\n',
    "wrong-answer": "FROM python:3.11-slim\nENV LABEL=virginica\n" + _RUNS,
    "secret-ok": 'FROM python:3.11-slim\nARG MY_TOKEN\nRUN test -n "$MY_TOKEN"\n' + _RUNS,
    "secret-fail": "FROM python:3.11-slim\nARG MY_TOKEN\n"
    'RUN echo "token is $MY_TOKEN" && false\n' + _RUNS,
}


# The app's two answers, as the sample app's manifest asks them (the Dockerfiles EXPOSE
# nothing: without this section the default check would only watch them stay up).
SMOKE = (
    '[variant.smoke]\nkind = "http"\nport = 8000\nchecks = [\n'
    '  { path = "/health", status = 200 },\n'
    """  { path = "/predict", body = '{"features": [5.1, 3.5, 1.4, 0.2]}', """
    """contains = '"label": "setosa"' },\n]\n"""
)


def make(root: Path) -> Path:
    """Write the project under root; returns its variants.toml."""
    (root / "app").mkdir(parents=True)
    (root / "app" / "app.py").write_text(APP)
    (root / "app" / ".dockerignore").write_text(".dockerfile.*\n")
    entries = ["schema = 1"]
    for name, text in DOCKERFILES.items():
        (root / f"{name}.Dockerfile").write_text(text)
        entries.append(
            f'[[variant]]\nname = "{name}"\ndockerfile = "{name}.Dockerfile"\n'
            f'context = "app"\ndescription = "fault case {name}"\nedit_file = "app.py"\n'
            'size_budget = "1 GB"\n' + SMOKE
        )
    manifest = root / "variants.toml"
    manifest.write_text("\n".join(entries))
    return manifest
