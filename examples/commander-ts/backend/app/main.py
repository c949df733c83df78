"""commander-ts backend: a stand-in for the FastAPI app, standard library only."""
import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer


def health() -> dict:
    return {"status": "ok", "qdrant": os.environ.get("QDRANT_URL", "")}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body, code = json.dumps(health()).encode(), 200
        else:
            body, code = b'{"detail": "Not Found"}', 404
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler).serve_forever()


if __name__ == "__main__":
    main()
