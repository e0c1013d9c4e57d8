"""The import graph of jkeras has no cycles, counting imports inside functions too.

Every `.py` file under `jkeras/` is parsed (nothing is imported), each `import` and
`from ... import ...` anywhere in it (module level, functions, methods) becomes an edge to the
jkeras module it reaches, and Tarjan's algorithm looks for strongly connected components. A
name imported from a package resolves to the module that defines it where that can be told
statically (followed through the package's `__init__`), else to the package itself.
Importing `a.b.c` is an edge to `a.b.c` only: the parents' `__init__` files run first in
every Python program and are not counted.
"""
import ast
import os
from collections import deque

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = "jkeras"


def _modules():
    """Module name -> (path, is_package) for every .py file under jkeras/."""
    out = {}
    for dirpath, _, files in os.walk(os.path.join(ROOT, PACKAGE)):
        for fname in files:
            if not fname.endswith(".py"):
                continue
            path = os.path.join(dirpath, fname)
            name = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
            is_package = name.endswith(".__init__")
            if is_package:
                name = name[: -len(".__init__")]
            out[name] = (path, is_package)
    return out


def _absolute(module, is_package, target, level):
    """The absolute name of `from <level dots><target> import ...` written in `module`."""
    if not level:
        return target
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts + ([target] if target else []))


class _Graph:
    def __init__(self, parent_packages=False):
        self.modules = _modules()
        self.trees = {name: ast.parse(open(path).read(), path)
                      for name, (path, _) in self.modules.items()}
        self.edges = {name: {} for name in self.modules}  # target -> first line
        for name in self.modules:
            self._collect(name)
        if parent_packages:
            self._add_parent_packages()

    def _add_parent_packages(self):
        """Importing `a.b.c` also runs `a/b/__init__.py`: an edge to each parent package
        below the root, except the importer's own packages (those are loading already)."""
        for module, targets in self.edges.items():
            for target, line in list(targets.items()):
                parts = target.split(".")
                for end in range(2, len(parts)):
                    parent = ".".join(parts[:end])
                    if parent in self.modules and not (module + ".").startswith(parent + "."):
                        targets.setdefault(parent, line)

    def _nearest_module(self, dotted):
        while dotted and dotted not in self.modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    def _top_level_definers(self, package, attr):
        """Submodules of `package` that define `attr` at their top level."""
        found = []
        prefix = package + "."
        for name in sorted(self.modules):
            if name.startswith(prefix) and "." not in name[len(prefix):]:
                if attr in self._top_level_names(name, imports=False):
                    found.append(name)
        return found

    def _top_level_names(self, module, imports):
        names = {}
        for node in self.trees[module].body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names[node.name] = None
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = None
            elif imports and isinstance(node, ast.ImportFrom):
                base = _absolute(module, self.modules[module][1], node.module, node.level)
                for alias in node.names:
                    names[alias.asname or alias.name] = (base, alias.name)
        return names

    def resolve_from(self, base, attr, seen=()):
        """The jkeras module that `from base import attr` depends on (None if not ours)."""
        if f"{base}.{attr}" in self.modules:
            return f"{base}.{attr}"
        if base not in self.modules:
            return self._nearest_module(base)
        if not self.modules[base][1] or base in seen:
            return base
        binding = self._top_level_names(base, imports=True).get(attr, "missing")
        if isinstance(binding, tuple):  # the package's __init__ imports it from elsewhere
            inner = self.resolve_from(binding[0], binding[1], seen + (base,))
            return inner if inner is not None else base
        if binding is None:  # defined in the __init__ itself
            return base
        definers = self._top_level_definers(base, attr)  # exported dynamically
        return definers[0] if len(definers) == 1 else base

    def _add(self, module, target, line):
        if target is not None and target != module and target not in self.edges[module]:
            self.edges[module][target] = line

    def _collect(self, module):
        is_package = self.modules[module][1]
        for node in ast.walk(self.trees[module]):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self._add(module, self._nearest_module(alias.name), node.lineno)
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(module, is_package, node.module, node.level)
                if base != PACKAGE and not base.startswith(PACKAGE + "."):
                    continue
                for alias in node.names:
                    self._add(module, self.resolve_from(base, alias.name), node.lineno)

    def cycles(self):
        """Strongly connected components with more than one module (iterative Tarjan)."""
        index, low, on_stack, stack, comps = {}, {}, set(), [], []
        counter = 0
        for root in sorted(self.edges):
            if root in index:
                continue
            work = [(root, iter(sorted(self.edges[root])))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                v, successors = work[-1]
                advanced = False
                for w in successors:
                    if w not in index:
                        index[w] = low[w] = counter
                        counter += 1
                        stack.append(w)
                        on_stack.add(w)
                        work.append((w, iter(sorted(self.edges[w]))))
                        advanced = True
                        break
                    if w in on_stack:
                        low[v] = min(low[v], index[w])
                if advanced:
                    continue
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        comps.append(sorted(comp))
        return comps

    def example_cycle(self, comp):
        """One cycle through `comp[0]`, as 'a (file line N) -> b ...' text."""
        members, start = set(comp), comp[0]
        parent = {start: None}
        queue = deque([start])
        while queue:
            v = queue.popleft()
            for w in sorted(self.edges[v]):
                if w == start:
                    path = [v]
                    while parent[path[-1]] is not None:
                        path.append(parent[path[-1]])
                    path.reverse()
                    path.append(start)
                    hops = [f"{a} (line {self.edges[a][b]})" for a, b in zip(path, path[1:])]
                    return " -> ".join(hops + [start])
                if w in members and w not in parent:
                    parent[w] = v
                    queue.append(w)
        return "?"


@pytest.fixture(scope="module")
def graph():
    return _Graph()


@pytest.mark.slow
def test_resolver_follows_packages(graph):
    # Sanity checks on the resolver itself, so that a silent miss cannot hide a cycle.
    assert graph.resolve_from("jkeras", "layers") == "jkeras.layers"
    assert graph.resolve_from("jkeras.layers", "Dense") == "jkeras.layers.core"
    assert graph.resolve_from("jkeras.engine.base_layer", "Layer") == "jkeras.engine.base_layer"
    assert graph.edges["jkeras"], "no imports found in jkeras/__init__.py"
    # An import inside a function counts like one at the top of the module.
    assert "jkeras.regularizers" in graph.edges["jkeras.engine.base_layer"]


def test_no_import_cycles(graph):
    comps = graph.cycles()
    report = [f"{len(c)} modules: {', '.join(c)}\n  e.g. {graph.example_cycle(c)}"
              for c in comps]
    assert not comps, "import cycles in jkeras:\n" + "\n".join(report)


@pytest.mark.slow
def test_no_cycles_through_other_packages_init():
    # Stricter than test_no_import_cycles: also counts the __init__ of every package an
    # import passes through (the root `jkeras` excepted: it imports everything).
    graph = _Graph(parent_packages=True)
    comps = graph.cycles()
    report = [f"{len(c)} modules: {', '.join(c)}\n  e.g. {graph.example_cycle(c)}"
              for c in comps]
    assert not comps, "import cycles through package __init__ files:\n" + "\n".join(report)


def test_engine_never_imports_saving(graph):
    bad = [f"{m} line {line} imports {t}"
           for m in sorted(graph.edges) if m.startswith("jkeras.engine.")
           for t, line in graph.edges[m].items()
           if t == "jkeras.saving" or t.startswith("jkeras.saving.")]
    assert not bad, "engine/ must not import saving/:\n" + "\n".join(bad)


def test_serialization_imports_nothing_above_it(graph):
    # The registry and safe mode are needed everywhere, so they import no file format,
    # no layer and no engine module: only each other.
    bad = [f"{m} line {line} imports {t}"
           for m in sorted(graph.edges) if m.startswith("jkeras.serialization")
           for t, line in graph.edges[m].items() if not t.startswith("jkeras.serialization")]
    assert not bad, "jkeras.serialization must stay a leaf package:\n" + "\n".join(bad)
