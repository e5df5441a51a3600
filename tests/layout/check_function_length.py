#!/usr/bin/env python3
"""Checks that no C++ function is longer than a limit (the layout.function_length CTest).

Usage: check_function_length.py [--max N] FILE...   (N defaults to 60)

A function's length is counted from the first line of its signature (template<> and attribute
lines included, comments before it not) through the line of its closing brace, inclusive: that is
what a reader has to hold in view. Counted are functions defined at namespace scope, out-of-class
member definitions and member functions defined inside class bodies; a lambda, local class or
switch inside a function belongs to that function.

This is a scanner, not a parser: comments, string/char literals (raw ones too) and preprocessor
lines are blanked, then each brace at namespace or class level is classified by the text before it
(since the previous ';', '{' or '}'). Code whose braces only balance per #if branch is reported as
unbalanced rather than guessed at.

Exit status 0 with a one-line summary when every function fits, 1 with one FILE:LINE line per
function that does not, 2 on a usage error or a file that cannot be read or scanned.
"""

import argparse
import re
import sys

IDENT = re.compile(r"\w")
CONTROL = {"if", "else", "for", "while", "do", "switch", "case", "default", "catch", "return"}
CLASS_KEYS = {"class", "struct", "union", "enum"}
# What may follow a function's parameter list before its body: qualifiers, ALL_CAPS macros, a
# trailing return type, a requires-clause or a constructor's member-init list.
TAIL = re.compile(r"(\s*(&&?|(const|volatile|noexcept|override|final|mutable|constexpr|consteval|try"
                  r"|[A-Z][A-Z0-9_]*)\b))*\s*(->.*|requires\b.*|:(?!:).*)?", re.S)
# Operator names hold characters ('(', '<', '=') the classification below gives meaning to.
OPERATOR = re.compile(r"\boperator\s*(\(\s*\)|\[\s*\]|(new|delete)\s*\[\s*\]|->\*?|<=>|<<=|>>=|<<|>>"
                      r"|&&|\|\||\+\+|--|[-+*/%^&|~!=<>]=?|,)")
# Parenthesised groups that are never a function's parameter list.
NOT_PARAMS = re.compile(r"\b(decltype|alignas|__attribute__|__declspec|noexcept|throw|sizeof|alignof)\s*\(")
ATTRIBUTE = re.compile(r"\[\[.*?\]\]", re.S)


class ScanError(Exception):
    pass


def blank(text):
    """Blanks what is not there for a compiler, keeping every character's line."""
    return re.sub(r"[^\n]", " ", text)


def strip(src):
    """Comments, literals and preprocessor lines become spaces (literals keep their quotes)."""
    out, i, n = [], 0, len(src)
    line_start = True
    while i < n:
        c = src[i]
        if line_start and c == "#":
            j = i  # to the end of the line, and of each line a backslash continues
            while j < n and (src[j] != "\n" or src[j - 1] == "\\"):
                j += 1
            out.append(blank(src[i:j]))
            i = j
            continue
        if c == "\n":
            line_start = True
        elif not c.isspace():
            line_start = False
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c == '"' and re.search(r"(?<!\w)(u8|u|U|L)?R$", src[max(0, i - 4):i]):
            delim = src[i + 1:src.find("(", i)]
            j = src.find(")" + delim + '"', i)
            if j < 0:
                raise ScanError("unterminated raw string")
            j += len(delim) + 2
        elif c == '"' or (c == "'" and not digit_separator(src, i)):
            j = i + 1
            while j < n and src[j] != c:
                if src[j] == "\n":
                    raise ScanError("unterminated literal on line %d" % (src.count("\n", 0, i) + 1))
                j += 2 if src[j] == "\\" else 1
            j += 1
        else:
            out.append(c)
            i += 1
            continue
        text = blank(src[i:j])
        out.append(text if c == "/" else c + text[1:-1] + c)  # a comment leaves no trace
        i = j
    return "".join(out)


def digit_separator(src, i):
    """1'000'000: a quote inside a number is no char literal."""
    j = i
    while j > 0 and (src[j - 1].isalnum() or src[j - 1] in "_.'"):
        j -= 1
    return j < i and src[j].isdigit()


def match(code, i, open_, close):
    """Index of the bracket closing the one at i, or None."""
    depth = 0
    for j in range(i, len(code)):
        if code[j] == open_:
            depth += 1
        elif code[j] == close:
            depth -= 1
            if depth == 0:
                return j
    return None


def sanitize(head):
    """Same-length copy of a declaration head with operator names, attributes and the parentheses
    of decltype(...) and the like blanked, so only parameter lists remain as '(' at depth 0."""
    head = ATTRIBUTE.sub(lambda m: blank(m.group()), head)
    head = OPERATOR.sub(lambda m: "operator" + "_" * (len(m.group()) - 8), head)
    for m in reversed(list(NOT_PARAMS.finditer(head))):
        end = match(head, m.end() - 1, "(", ")")
        if end is not None:
            head = head[:m.start()] + blank(head[m.start():end + 1]) + head[end + 1:]
    return head


def leading_words(head):
    """The head's first words after template<...> prefixes, e.g. ['inline', 'namespace', 'x']."""
    rest = head.lstrip()
    while rest.startswith("template"):
        lt = rest.find("<")
        end = match(rest, lt, "<", ">") if lt >= 0 else None
        if end is None:
            break
        rest = rest[end + 1:].lstrip()
    return re.findall(r"[A-Za-z_]\w*", rest)


def parameter_lists(h):
    """(open, close) of each '(' ... ')' not inside template arguments, in order. A '<' opens
    template arguments when it follows a name; std::function<void()> then holds no parameter list."""
    parens, angles, start = 0, 0, None
    prev = ""
    for k, c in enumerate(h):
        if c == "(":
            if parens == 0 and angles == 0:
                start = k
            parens += 1
        elif c == ")" and parens:
            parens -= 1
            if parens == 0 and start is not None:
                yield start, k
                start = None
        elif parens == 0 and c == "<" and IDENT.match(prev or " "):
            angles += 1
        elif parens == 0 and c == ">" and angles and prev != "-":
            angles -= 1
        if not c.isspace():
            prev = c


def classify(head):
    """('scope', class name or None) | ('function', (name start, name end, ctor init?)) | ('other', None)."""
    h = sanitize(head)
    words = leading_words(h)
    if words[:1] == ["namespace"] or words[:2] == ["inline", "namespace"]:
        return "scope", None
    if re.fullmatch(r'\s*extern\s*"\s*"\s*', h):
        return "scope", None
    if words[:1] and words[0] in CONTROL:
        return "other", None
    for open_, close in parameter_lists(h):
        # '=' at depth 0 before the parameters: a variable initialised by a lambda or a call.
        before = h[:open_]
        while True:
            shorter = re.sub(r"<[^<>]*>|\([^()]*\)", "", before)
            if shorter == before:
                break
            before = shorter
        if "=" in before:
            return "other", None
        if TAIL.fullmatch(h[close + 1:]):
            name = re.search(r"[\w:~<>]*\w\s*$", h[:open_])
            start = name.start() if name else open_
            ctor = h[close + 1:].lstrip().startswith(":")
            return "function", (start, open_, ctor)
    keys = [w for w in words if w in CLASS_KEYS]
    if keys and keys[0] != "enum":
        after = re.split(r"\b" + keys[0] + r"\b", h, 1)[1]
        names = [w for w in re.findall(r"[A-Za-z_]\w*", re.split(r"(?<!:):(?!:)", after)[0])
                 if w not in ("final", "alignas")]
        return "scope", names[-1] if names else None
    return "other", None


def functions(src):
    """Yields (name, first line, last line) of each function in src."""
    code = strip(src)
    line_of = lambda k: code.count("\n", 0, k) + 1  # noqa: E731
    classes = []       # one entry per open namespace/class brace: the class name or None
    head_start = 0     # where the text classifying the next brace begins
    i = 0
    while i < len(code):
        c = code[i]
        if c == ";":
            head_start = i + 1
        elif c == "}":
            if not classes:
                raise ScanError("unbalanced '}' on line %d" % line_of(i))
            classes.pop()
            head_start = i + 1
        elif c == "{":
            head = code[head_start:i]
            kind, info = classify(head)
            if kind == "scope":
                classes.append(info)
                head_start = i + 1
                i += 1
                continue
            end = match(code, i, "{", "}")
            if end is None:
                raise ScanError("unbalanced '{' on line %d" % line_of(i))
            if kind == "function" and info[2] and re.search(r"[\w>]\s*$", head):
                i = end + 1  # a member-init brace (b_{y}): the head goes on to the body's brace
                continue
            if kind == "function":
                # The signature starts at the head's first word, past an access specifier.
                sig = re.match(r"\s*((public|private|protected)\s*:(?!:)\s*)*", head).end()
                name = head[info[0]:info[1]].strip()
                owner = next((c for c in reversed(classes) if c), None)
                if owner and "::" not in name:
                    name = owner + "::" + name
                yield name, line_of(head_start + sig), line_of(end)
            head_start = end + 1
            i = end
        i += 1
    if classes:
        raise ScanError("unbalanced '{' at end of file")


def main(argv):
    parser = argparse.ArgumentParser(
        prog="check_function_length.py",
        description="Fails when a C++ function is longer than --max lines, "
                    "counted from its signature's first line through its closing brace.")
    parser.add_argument("--max", type=int, default=60, metavar="N", help="longest allowed (default 60)")
    parser.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(argv)  # exits 2 on a usage error
    if args.max < 1:
        parser.error("--max must be at least 1")
    violations, count, longest = [], 0, None
    for path in args.files:
        try:
            with open(path, encoding="utf-8") as f:
                src = f.read()
            found = list(functions(src))
        except (OSError, UnicodeDecodeError) as e:
            print("check_function_length: cannot read %s: %s" % (path, e), file=sys.stderr)
            return 2
        except ScanError as e:
            print("check_function_length: %s: %s" % (path, e), file=sys.stderr)
            return 2
        for name, first, last in found:
            count += 1
            length = last - first + 1
            if longest is None or length > longest[1]:
                longest = (name, length)
            if length > args.max:
                violations.append("%s:%d: %s is %d lines (max %d)" % (path, first, name, length, args.max))
    for v in violations:
        print(v)
    if violations:
        return 1
    print("checked %d functions in %d files; longest %s %d lines"
          % (count, len(args.files), longest[0] if longest else "-", longest[1] if longest else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
