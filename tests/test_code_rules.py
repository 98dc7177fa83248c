"""Rules of the code that keep whole classes of bugs away, checked on the source itself: one home for
scoping, no hand-written owner filters, imports that run one way."""
import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mediamgr"
SCOPING = PACKAGE / "scoping.py"
# Where a function-level import is the pattern rather than a misplaced piece: the app factory and the
# CLI entry build the app on demand, a bare `rq worker` builds it inside a job, and the storage
# backend (boto3 is heavy) is chosen by the configuration.
LAZY_IMPORTS_ALLOWED = {PACKAGE / "__init__.py", PACKAGE / "runner.py", PACKAGE / "jobs" / "__init__.py",
                        PACKAGE / "storage" / "__init__.py"}


def sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(), filename=str(path))


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path, node):
    """The mediamgr modules an import statement names (a relative `from . import x` may name a module)."""
    if not isinstance(node, ast.ImportFrom):
        return [alias.name for alias in node.names if alias.name.startswith("mediamgr")]
    if not node.level:
        return [node.module] if node.module and node.module.startswith("mediamgr") else []
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[:len(package) - (node.level - 1)]
    target = ".".join(base + ([node.module] if node.module else []))
    candidates = [f"{target}.{alias.name}" for alias in node.names]
    return [name for name in candidates if _is_module(name)] or [target]


def _is_module(name):
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_only_scoping_decides_what_an_admin_sees():
    offenders = []
    for path, tree in sources():
        if path == SCOPING or path == PACKAGE / "auth" / "models.py":  # its definition
            continue
        offenders += [f"{path.relative_to(PACKAGE)}:{node.lineno}" for node in ast.walk(tree)
                      if isinstance(node, ast.Attribute) and node.attr == "is_admin"]
    assert not offenders, "is_admin outside scoping.py (use owned(), scoped() or sees_everyone()): " + ", ".join(offenders)


def test_queries_are_never_scoped_by_hand():
    """`Model.owner_id == …` in a query is a second way to scope: scoping.py has owned(), scoped() and
    owned_by() for that."""
    offenders = []
    for path, tree in sources():
        if path == SCOPING:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
                for side in (node.left, *node.comparators):
                    if (isinstance(side, ast.Attribute) and side.attr == "owner_id" and isinstance(side.value, ast.Name)
                            and side.value.id[:1].isupper()):
                        offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, "hand-written owner filters: " + ", ".join(offenders)


def test_imports_run_one_way():
    """No module imports, at any depth, a module that imports it back, and imports sit at the top of
    the file (one inside a function is a sign the pieces are in the wrong rooms)."""
    graph, lazy = {}, []
    for path, tree in sources():
        name = module_name(path)
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets = [target for target in imported_modules(path, node) if target != name]
                if id(node) not in top_level and path not in LAZY_IMPORTS_ALLOWED and targets:
                    lazy.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
                if path not in LAZY_IMPORTS_ALLOWED or id(node) in top_level:
                    graph.setdefault(name, set()).update(target for target in targets if not name.startswith(target + "."))
    assert not lazy, "imports inside functions: " + ", ".join(lazy)
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


def _cycles(graph):
    """Each strongly connected group of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for neighbour in graph.get(node, ()):
            if neighbour not in index:
                visit(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in on_stack:
                low[node] = min(low[node], index[neighbour])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


# ---- the front end -------------------------------------------------------------------------------------
STATIC = PACKAGE.parent / "static"
TEMPLATES = PACKAGE.parent / "templates"
URL_LITERAL = re.compile(r"""["'`]/[a-z]""")  # "/media/…": a path written into the script
MARKUP_LITERAL = re.compile(r"""["'`][^"'`\n]*<[a-zA-Z/!]""")  # "<li class=…": markup built in the script


def own_scripts():
    return sorted(path for path in STATIC.rglob("*.js") if "vendor" not in path.relative_to(STATIC).parts)


def code_of(path):
    """The script without its comments (a comment may name a URL or an element)."""
    return re.sub(r"^\s*//.*$|\s//\s.*$", "", path.read_text(), flags=re.MULTILINE)


def test_the_front_end_is_small_es_modules_that_name_the_markup_they_own():
    scripts = own_scripts()
    assert scripts and {path.parent for path in scripts} == {STATIC / "js"}, "the page's scripts live in static/js"
    for path in scripts:
        text = path.read_text()
        assert text.startswith("// "), f"{path.name}: starts with a comment naming the markup it owns"
        assert len(text.splitlines()) <= 300, f"{path.name}: {len(text.splitlines())} lines; split it along its seams"
        assert not re.search(r"^\(function", text, re.MULTILINE), f"{path.name}: a module, not an IIFE"
    tags = [tag for page in TEMPLATES.rglob("*.html")
            for tag in re.findall(r"<script\b[^>]*\bsrc=[^>]*>", page.read_text()) if "vendor/" not in tag]
    assert tags and all('type="module"' in tag for tag in tags), tags


def test_the_front_end_takes_urls_and_markup_from_the_server():
    for path in own_scripts():
        code = code_of(path)
        assert not URL_LITERAL.search(code), f"{path.name}: a URL written in the script (use a data-* attribute)"
        assert not MARKUP_LITERAL.search(code), f"{path.name}: markup built in the script (use a server <template>)"
