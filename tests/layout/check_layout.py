#!/usr/bin/env python3
"""Checks every #include of calgate's libraries and binaries against cmake/layout.txt.

Usage: check_layout.py [SOURCE_DIR]

The table says which libraries each library may use (transitively). A file belongs to the library
whose folder holds it (the deepest one); an include "calgate/<prefix>/..." belongs to the library
with the longest matching include prefix. An include of a library the file's library may not use,
of a header that library does not publish (its src/, or its internal/ from outside), a relative
include that leaves the library's folder, or an include nobody publishes is a violation. So is a
cycle in the table. tests/, bench/ and fuzz/ are not checked: they may use anything.

Exit status 0 when everything holds, 1 with one line per violation otherwise, 2 on a bad table.
"""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".cpp.in")
UNCHECKED = ("tests", "bench", "fuzz", "build", ".git")


class Layout:
    def __init__(self, root):
        self.root = root
        self.folder = {}   # name -> folder
        self.prefix = {}   # name -> include prefix ("" for binaries)
        self.uses = {}     # name -> direct uses
        self.binaries = set()
        path = os.path.join(root, "cmake", "layout.txt")
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                fields = line.split()
                if len(fields) < 3:
                    raise ValueError("%s:%d: expected name, folder, include prefix" % (path, number))
                name, folder, prefix, uses = fields[0], fields[1], fields[2], fields[3:]
                if name.startswith("binary:"):
                    self.binaries.add(name)
                    prefix = ""
                if name in self.folder:
                    raise ValueError("%s:%d: %s is listed twice" % (path, number, name))
                self.folder[name] = folder.rstrip("/")
                self.prefix[name] = prefix.rstrip("/")
                self.uses[name] = uses
        for name, uses in self.uses.items():
            for used in uses:
                if used not in self.folder or used in self.binaries:
                    raise ValueError("%s: %s may use %s, which is not a library of the table" % (path, name, used))

    def closure(self, name):
        seen, queue = [], list(self.uses[name])
        while queue:
            n = queue.pop(0)
            if n not in seen:
                seen.append(n)
                queue.extend(self.uses[n])
        return seen

    def cycles(self):
        return sorted(n for n in self.folder if n in self.closure(n))

    def owner_of_file(self, relpath):
        best = None
        for name, folder in self.folder.items():
            if relpath.startswith(folder + "/") and (best is None or len(folder) > len(self.folder[best])):
                best = name
        return best

    def owner_of_include(self, include):
        best = None
        for name, prefix in self.prefix.items():
            if prefix and include.startswith(prefix + "/") and (best is None or len(prefix) > len(self.prefix[best])):
                best = name
        return best


def check(root):
    """Returns (violations, files checked, includes checked)."""
    layout = Layout(root)
    violations = ["cmake/layout.txt: %s may use itself (a cycle)" % n for n in layout.cycles()]
    files = includes = 0
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d not in UNCHECKED]
            continue
        for filename in sorted(filenames):
            if not filename.endswith(SOURCE_SUFFIXES):
                continue
            rel = os.path.join(rel_dir, filename).replace(os.sep, "/")
            owner = layout.owner_of_file(rel)
            if owner is None:
                violations.append("%s: in no library of cmake/layout.txt" % rel)
                continue
            files += 1
            allowed = set(layout.closure(owner)) | {owner}
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
                text = f.read()
            for include in INCLUDE.findall(text):
                includes += 1
                problem = check_include(layout, root, rel, owner, allowed, include)
                if problem:
                    violations.append("%s: #include \"%s\": %s" % (rel, include, problem))
    return violations, files, includes


def check_include(layout, root, rel, owner, allowed, include):
    if ".." in include.split("/"):
        return "no relative paths out of a folder"
    own_folder = layout.folder[owner]
    if include.startswith("calgate/"):
        lib = layout.owner_of_include(include)
        if lib is None:
            return "no library publishes calgate/%s" % include.split("/")[1]
        if lib not in allowed:
            return "%s may not use %s (cmake/layout.txt; it may use: %s)" % (
                owner, lib, ", ".join(layout.closure(owner)) or "nothing")
        folder = os.path.join(root, layout.folder[lib])
        if os.path.isfile(os.path.join(folder, "include", include)):
            return None
        if lib == owner and os.path.isfile(os.path.join(folder, "internal", include)):
            return None
        if os.path.isfile(os.path.join(folder, "internal", include)):
            return "an internal header of %s (only its own code, tests, benchmarks and fuzz targets may use it)" % lib
        return "%s publishes no such header" % lib
    # A quoted include without the calgate/ prefix: a private header next to the file or in the
    # library's own src/.
    candidates = [os.path.join(root, os.path.dirname(rel), include), os.path.join(root, own_folder, "src", include)]
    if any(os.path.isfile(c) for c in candidates):
        return None
    return "not a header of %s (private headers live in its src/; other libraries' through calgate/...)" % owner


def main(argv):
    root = os.path.abspath(argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    try:
        violations, files, includes = check(root)
    except (OSError, ValueError) as e:
        print("check_layout: %s" % e, file=sys.stderr)
        return 2
    for v in violations:
        print(v)
    if violations:
        print("check_layout: %d violation(s) of cmake/layout.txt" % len(violations), file=sys.stderr)
        return 1
    print("check_layout: %d files, %d includes, all as cmake/layout.txt allows" % (files, includes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
