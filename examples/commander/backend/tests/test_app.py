"""The migration creates the table; the API answers healthy from the database."""
import os
import subprocess
import sys
import tempfile
import unittest

DB = os.path.join(tempfile.mkdtemp(), "test.db")
os.environ["DATABASE_URL"] = "sqlite:///" + DB
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from fastapi.testclient import TestClient  # noqa: E402

from app.main import app  # noqa: E402


class MigratedApp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = TestClient(app)

    def test_1_unhealthy_before_the_migration(self):
        r = self.client.get("/health")
        self.assertEqual(r.status_code, 503)
        self.assertIn("alembic upgrade head", r.json()["detail"])

    def test_2_migration_then_healthy(self):
        out = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        r = self.client.get("/health")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["database"], "sqlite")

    def test_3_conversations(self):
        r = self.client.post("/conversations", json={"title": " plan the launch "})
        self.assertEqual(r.status_code, 201, r.text)
        self.assertEqual(r.json()["title"], "plan the launch")
        self.assertEqual(self.client.post("/conversations", json={"title": "  "}).status_code, 422)
        titles = [c["title"] for c in self.client.get("/conversations").json()]
        self.assertEqual(titles, ["plan the launch"])


if __name__ == "__main__":
    unittest.main()
