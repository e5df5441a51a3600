"""check_inventory.py fails, naming the column, when a migration adds a column the inventory does
not describe, and when the inventory describes one that does not exist."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))


def run(source):
    return subprocess.run([sys.executable, os.path.join(HERE, "check_inventory.py"), source], capture_output=True, text=True)


class CheckInventory(unittest.TestCase):
    def copy(self):
        d = tempfile.mkdtemp(prefix="cg-inventory-")
        self.addCleanup(shutil.rmtree, d)
        shutil.copytree(os.path.join(SOURCE, "schemas", "sql"), os.path.join(d, "schemas", "sql"))
        os.makedirs(os.path.join(d, "docs"))
        shutil.copy(os.path.join(SOURCE, "docs", "security.md"), os.path.join(d, "docs"))
        return d

    def test_the_repository_passes(self):
        r = run(SOURCE)
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_a_new_column_without_an_entry_fails_naming_it(self):
        d = self.copy()
        with open(os.path.join(d, "schemas", "sql", "sqlite", "9999_new.sql"), "w") as f:
            f.write("ALTER TABLE users ADD COLUMN favourite_colour TEXT;\n")
        r = run(d)
        self.assertEqual(r.returncode, 1)
        self.assertIn("column users.favourite_colour is in the schema but not in the inventory", r.stdout)

    def test_a_documented_column_that_does_not_exist_fails(self):
        d = self.copy()
        with open(os.path.join(d, "docs", "security.md"), "a") as f:
            f.write("\n### ghosts\n\n| column | what | why | protection |\n|---|---|---|---|\n| id | x | y | z |\n")
        r = run(d)
        self.assertEqual(r.returncode, 1)
        self.assertIn("table ghosts is in the inventory but not in the schema", r.stdout)


if __name__ == "__main__":
    unittest.main()
