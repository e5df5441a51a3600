"""The function length check itself: what it counts as a function and how long (run by the
layout.function_length.selftest CTest)."""

import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_function_length as cfl  # noqa: E402


def body(lines):
    """A function of exactly `lines` lines, signature and closing brace included."""
    return "int f(int x) {\n" + "  x += 1;\n" * (lines - 2) + "}\n"


class FunctionLength(unittest.TestCase):
    def run_main(self, *sources, args=()):
        paths = []
        for text in sources:
            fd, path = tempfile.mkstemp(suffix=".cpp")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            self.addCleanup(os.remove, path)
            paths.append(path)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cfl.main(list(args) + paths)
            except SystemExit as e:  # argparse's way out
                code = e.code
        return code, out.getvalue()

    def found(self, src):
        return [(name, last - first + 1) for name, first, last in cfl.functions(src)]

    def test_limit_is_inclusive(self):
        self.assertEqual(self.found(body(60)), [("f", 60)])
        code, out = self.run_main(body(60), args=["--max", "60"])
        self.assertEqual(code, 0, out)
        self.assertIn("checked 1 functions in 1 files; longest f 60 lines", out)
        code, out = self.run_main("\n\n" + body(61), args=["--max", "60"])
        self.assertEqual(code, 1)
        self.assertRegex(out, r"\.cpp:3: f is 61 lines \(max 60\)")

    def test_default_max_is_60(self):
        self.assertEqual(self.run_main(body(60))[0], 0)
        self.assertEqual(self.run_main(body(61))[0], 1)

    def test_comments_and_literals_with_braces(self):
        src = """// void fake() {
/* struct X { void g() { } }; */
const char* s = "{ \\" } {";
char c = '{', d = '\\'';
int n = 1'000'000;
int f() {
  const char* t = "}}}";  // }
  return '}';
}
"""
        self.assertEqual(self.found(src), [("f", 4)])

    def test_raw_strings(self):
        src = 'void f() {\n  auto q = R"sql(select "}" from t\n where x = \')\';)sql";\n  g(u8R"(})");\n}\nvoid h() {}\n'
        self.assertEqual(self.found(src), [("f", 5), ("h", 1)])

    def test_class_with_inline_members(self):
        src = """namespace a::b {
template <typename T = std::vector<int>>
class Box : public Base<decltype(g())> {
 public:
  Box() = default;
  explicit Box(T t) : t_(t), n_{1} {}
  bool operator==(const Box& o) const { return t_ == o.t_; }
  T get() const noexcept {
    return t_;
  }
  struct Inner { int size() { return 0; } };
 private:
  T t_{};
  std::function<void()> cb_{};
  enum class E : int { A, B };
  int n_ = 0;
};
}  // namespace a::b
"""
        self.assertEqual(self.found(src), [("Box::Box", 1), ("Box::operator==", 1), ("Box::get", 3),
                                           ("Inner::size", 1)])

    def test_constructor_init_lists(self):
        src = """A::A(int x)
    : a_(x),
      b_{x, {1, 2}},
      c_(Base<int>{x}) {
  run();
}
B::B() noexcept : Base<int>{3} { }
"""
        self.assertEqual(self.found(src), [("A::A", 6), ("B::B", 1)])

    def test_brace_initializer_is_no_function(self):
        src = """Foo x{a, b};
std::vector<int> v = {1, 2};
Bar y{make(1)}, z{2};
auto fn = [](int q) { return q; };
int f() { return 0; }
"""
        self.assertEqual(self.found(src), [("f", 1)])

    def test_lambdas_and_switch_count_toward_enclosing(self):
        src = """void f(int k) {
  auto g = [&](int x) {
    return x + k;
  };
  switch (k) {
    case 1: { g(1); break; }
    default: break;
  }
}
"""
        self.assertEqual(self.found(src), [("f", 9)])

    def test_usage_and_unreadable_files(self):
        self.assertEqual(self.run_main()[0], 2)
        self.assertEqual(self.run_main(body(3), args=["--max", "x"])[0], 2)
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(cfl.main([os.path.join(tempfile.gettempdir(), "no-such-file.cpp")]), 2)
        self.assertEqual(self.run_main("void f() {\n")[0], 2)


if __name__ == "__main__":
    unittest.main()
