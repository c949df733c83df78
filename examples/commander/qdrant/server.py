"""Qdrant-like HTTP API: /healthz, PUT/GET /collections/<name>, GET /collections."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

collections = {}


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, {"title": "healthz check passed"})
        if self.path == "/collections":
            return self.reply(200, {"result": {"collections": [{"name": n} for n in sorted(collections)]}, "status": "ok"})
        name = self.path.removeprefix("/collections/")
        if name in collections:
            return self.reply(200, {"result": collections[name], "status": "ok"})
        return self.reply(404, {"status": {"error": "Not found: " + self.path}})

    def do_PUT(self):
        name = self.path.removeprefix("/collections/")
        if not name or "/" in name:
            return self.reply(400, {"status": {"error": "PUT /collections/<name>"}})
        length = int(self.headers.get("Content-Length", 0))
        collections[name] = json.loads(self.rfile.read(length) or b"{}")
        return self.reply(200, {"result": True, "status": "ok"})


if __name__ == "__main__":
    port = int(os.environ.get("QDRANT__SERVICE__HTTP_PORT", "6333"))
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
