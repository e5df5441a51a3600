"""The layout check itself: it must refuse what cmake/layout.txt forbids (run by the layout.selftest CTest)."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_layout  # noqa: E402

TABLE = """\
# name  folder           prefix            may use
core    core             calgate/core
model   lib/model        calgate/model     core
policy  policy           calgate/policy    model
dns     dns              calgate/dns       policy
store   gw/store         calgate/store     core
binary:tool  tool        -                 store
"""


class LayoutCheck(unittest.TestCase):
    def tree(self, files, table=TABLE):
        root = tempfile.mkdtemp(prefix="layout-")
        self.addCleanup(lambda: __import__("shutil").rmtree(root))
        files = dict(files)
        files["cmake/layout.txt"] = table
        for name, text in files.items():
            path = os.path.join(root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return root

    def base(self):
        return {
            "core/include/calgate/core/error.hpp": "#pragma once\n",
            "lib/model/include/calgate/model/event.hpp": '#include "calgate/core/error.hpp"\n',
            "lib/model/src/event.cpp": '#include "calgate/model/event.hpp"\n#include "helper.hpp"\n',
            "lib/model/src/helper.hpp": "#pragma once\n",
            "lib/model/internal/calgate/model/parser.hpp": "#pragma once\n",
            "policy/include/calgate/policy/gate.hpp": '#include "calgate/model/event.hpp"\n',
            "policy/src/gate.cpp": '#include "calgate/policy/gate.hpp"\n#include "calgate/core/error.hpp"\n',
            "dns/src/lookup.cpp": '#include "calgate/policy/gate.hpp"\n',
            "gw/store/include/calgate/store/db.hpp": '#include "calgate/core/error.hpp"\n',
            "tool/src/main.cpp": '#include "calgate/store/db.hpp"\n',
            "tests/anything_test.cpp": '#include "calgate/dns/nothing.hpp"\n#include "../../x.hpp"\n',
        }

    def violations(self, extra, table=TABLE):
        files = self.base()
        files.update(extra)
        return check_layout.check(self.tree(files, table))[0]

    def test_the_allowed_layout_passes(self):
        violations, files, includes = check_layout.check(self.tree(self.base()))
        self.assertEqual(violations, [])
        self.assertEqual(files, 10)  # tests/ is not checked
        self.assertEqual(includes, 9)

    def test_a_wrong_way_include_is_refused(self):
        v = self.violations({"lib/model/src/evil.cpp": '#include "calgate/policy/gate.hpp"\n'})
        self.assertEqual(len(v), 1)
        self.assertIn("lib/model/src/evil.cpp", v[0])
        self.assertIn("model may not use policy", v[0])

    def test_uses_are_transitive_but_not_sideways(self):
        self.assertEqual(self.violations({"dns/src/deep.cpp": '#include "calgate/core/error.hpp"\n'}), [])
        v = self.violations({"dns/src/side.cpp": '#include "calgate/store/db.hpp"\n'})
        self.assertEqual(len(v), 1)
        self.assertIn("dns may not use store", v[0])

    def test_a_binary_is_held_to_its_line(self):
        v = self.violations({"tool/src/extra.cpp": '#include "calgate/policy/gate.hpp"\n'})
        self.assertEqual(len(v), 1)
        self.assertIn("binary:tool may not use policy", v[0])

    def test_private_and_internal_headers_stay_home(self):
        v = self.violations({"policy/src/peek.cpp": '#include "calgate/model/parser.hpp"\n'})
        self.assertEqual(len(v), 1)
        self.assertIn("an internal header of model", v[0])
        self.assertEqual(self.violations({"lib/model/src/own.cpp": '#include "calgate/model/parser.hpp"\n'}), [])
        v = self.violations({"policy/src/reach.cpp": '#include "helper.hpp"\n'})
        self.assertEqual(len(v), 1)
        self.assertIn("not a header of policy", v[0])
        v = self.violations({"policy/src/climb.cpp": '#include "../../lib/model/src/helper.hpp"\n'})
        self.assertIn("no relative paths", v[0])

    def test_unknown_headers_and_stray_files_are_refused(self):
        v = self.violations({"policy/src/typo.cpp": '#include "calgate/polcy/gate.hpp"\n'})
        self.assertIn("no library publishes calgate/polcy", v[0])
        v = self.violations({"policy/src/missing.cpp": '#include "calgate/policy/nope.hpp"\n'})
        self.assertIn("policy publishes no such header", v[0])
        v = self.violations({"orphan/src/x.cpp": "int x;\n"})
        self.assertIn("in no library of cmake/layout.txt", v[0])

    def test_a_cycle_in_the_table_is_refused(self):
        table = TABLE.replace("core    core             calgate/core\n", "core    core             calgate/core  dns\n")
        v = self.violations({}, table)
        self.assertTrue(any("core may use itself (a cycle)" in line for line in v), v)

    def test_the_project_itself_holds(self):
        root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
        violations, files, includes = check_layout.check(root)
        self.assertEqual(violations, [])
        self.assertGreater(files, 100)
        self.assertGreater(includes, 300)


if __name__ == "__main__":
    unittest.main()
