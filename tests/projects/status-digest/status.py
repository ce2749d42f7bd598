"""A status page: GET /status answers the uptime in seconds as JSON."""

import argparse
import json
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

STARTED = time.monotonic()


class Status(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/status":
            self.send_error(404)
            return
        body = json.dumps({"uptime_seconds": round(time.monotonic() - STARTED, 1)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    print(f"status page on port {port}")
    HTTPServer(("", port), Status).serve_forever()


if __name__ == "__main__":
    main()
