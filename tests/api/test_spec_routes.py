"""The routes `calgate routes --json` serves are exactly the operations openapi.yaml documents."""

import re
import unittest

import jsonschema

import calgate_api as cg


def normalise(pattern):
    """Parameter names do not matter: /v1/pairs/{id} == /v1/pairs/{pair_id}."""
    return re.sub(r"\{[^}/]+\}", "{}", pattern)


class SpecRoutesTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.spec = cg.spec()
        cls.served = cg.routes_from_binary()

    def test_output_shape(self):
        self.assertIsInstance(self.served, list)
        self.assertGreater(len(self.served), 0)
        for r in self.served:
            self.assertEqual(set(r), {"method", "pattern", "authenticated"}, r)
            self.assertIn(r["method"], ("GET", "POST", "PUT", "PATCH", "DELETE"), r)
            self.assertTrue(r["pattern"].startswith("/"), r)
            self.assertIsInstance(r["authenticated"], bool, r)
        keys = [(r["method"], r["pattern"]) for r in self.served]
        self.assertEqual(len(keys), len(set(keys)), "duplicate routes")

    def test_served_routes_equal_documented_operations(self):
        served = {(r["method"], normalise(r["pattern"])) for r in self.served}
        documented = {(m, normalise(t)) for m, t, _ in self.spec.operations()}
        self.assertEqual(sorted(served - documented), [], "served but not in openapi.yaml")
        self.assertEqual(sorted(documented - served), [], "in openapi.yaml but not served")

    def test_security_matches(self):
        documented = {(m, normalise(t)): self.spec.is_authenticated(op) for m, t, op in self.spec.operations()}
        mismatches = []
        for r in self.served:
            key = (r["method"], normalise(r["pattern"]))
            if key in documented and documented[key] != r["authenticated"]:
                mismatches.append((key, "served authenticated=%s" % r["authenticated"],
                                   "documented %s" % ("bearer" if documented[key] else "none")))
        self.assertEqual(mismatches, [])

    def test_v1_routes_need_a_token_and_feeds_do_not(self):
        for r in self.served:
            if r["pattern"].startswith("/v1/"):
                self.assertTrue(r["authenticated"], r)
            if r["pattern"].startswith("/feeds/") or r["pattern"] in ("/healthz", "/readyz", "/metrics"):
                self.assertFalse(r["authenticated"], r)

    def test_plain_text_listing_matches_json(self):
        import subprocess
        out = subprocess.run([cg.CALGATE, "routes"], env=cg.base_env(), capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = {tuple(l.split()) for l in out.stdout.splitlines() if l.strip()}
        expected = {(r["method"], r["pattern"], "bearer/session" if r["authenticated"] else "none") for r in self.served}
        self.assertEqual(lines, expected)


class SpecDocumentTest(unittest.TestCase):
    """openapi.yaml itself: every $ref resolves, every schema is valid JSON Schema 2020-12, every
    response object is closed (additionalProperties: false), every operation documents 401 when it
    needs a token."""

    @classmethod
    def setUpClass(cls):
        cls.spec = cg.spec()

    def walk(self, node, path, visit):
        visit(node, path)
        if isinstance(node, dict):
            for k, v in node.items():
                self.walk(v, path + "/" + str(k), visit)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                self.walk(v, path + "/" + str(i), visit)

    def test_refs_resolve(self):
        def visit(node, path):
            if isinstance(node, dict) and "$ref" in node:
                try:
                    self.spec.deref({"$ref": node["$ref"]})
                except (KeyError, AssertionError) as e:
                    self.fail("%s: unresolvable %s (%s)" % (path, node["$ref"], e))
        self.walk(self.spec.doc, "", visit)

    def test_schemas_are_valid(self):
        for name, schema in self.spec.doc["components"]["schemas"].items():
            jsonschema.Draft202012Validator.check_schema(schema)

    def test_object_schemas_are_closed(self):
        open_objects = []

        def visit(node, path):
            if not isinstance(node, dict) or "/requestBody" in path:
                return
            if node.get("type") == "object" and "properties" in node and node.get("additionalProperties") is not False:
                open_objects.append(path)
        self.walk(self.spec.doc["paths"], "#/paths", visit)
        schemas = self.spec.doc["components"]["schemas"]
        for name, s in schemas.items():
            self.walk(s, "#/components/schemas/" + name, visit)
        self.assertEqual(open_objects, [])

    def test_every_operation_documents_its_errors(self):
        missing = []
        for method, template, op in self.spec.operations():
            codes = set(op["responses"])
            if self.spec.is_authenticated(op):
                for c in ("401", "429"):
                    if c not in codes:
                        missing.append((method, template, c))
            if "{id}" in template and template.startswith("/v1/") and "404" not in codes:
                missing.append((method, template, "404"))
            if "requestBody" in op:
                for c in ("400", "413", "415"):
                    if c not in codes:
                        missing.append((method, template, c))
        self.assertEqual(missing, [])



class MethodNotAllowedTest(unittest.TestCase):
    """Every documented path answers other methods with 405 method-not-allowed and an Allow header
    naming exactly the documented methods."""

    @classmethod
    def setUpClass(cls):
        cls.server = cg.Calgate(name="spec").start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.token = cls.server.add_user()["token"]

    def test_other_methods(self):
        spec = cg.spec()
        fake = {"{id}": "par_" + "q" * 26, "{domain}": "example.com", "{token}": "nothing"}
        client = self.server.client(self.token)
        for template, item in spec.doc["paths"].items():
            documented = {m.upper() for m in spec.METHODS if m in item}
            path = template
            for k, v in fake.items():
                path = path.replace(k, v)
            for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - documented):
                with self.subTest(method=method, path=template):
                    r = client.request(method, path, json_body={} if method in ("POST", "PUT", "PATCH") else None)
                    self.assertEqual((r.status, r.problem_type), (405, "method-not-allowed"), r)
                    allow = {m.strip() for m in (r.header("Allow") or "").split(",") if m.strip()}
                    self.assertEqual(allow - {"HEAD", "OPTIONS"}, documented, r.headers)

if __name__ == "__main__":
    unittest.main()
