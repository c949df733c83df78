import unittest

from app.main import health


class HealthTest(unittest.TestCase):
    def test_ok(self):
        self.assertEqual(health()["status"], "ok")


if __name__ == "__main__":
    unittest.main()
