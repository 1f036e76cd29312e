#!/usr/bin/env python3
"""The module graph of a crate's top-level modules, and its cycles.

    python3 scripts/module_graph.py [daemon/src] [--dot]

An edge A -> B means a file of module A names `crate::B` (in a `use` or a path).
Prints every edge, then each strongly connected component of more than one module
(a cycle); exits 1 if there is any. Comments and string literals are skipped, so a
doc comment that mentions `crate::x` is not a dependency.
"""
import re
import sys
from pathlib import Path


def strip(source):
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r'r#*"(?:.|\n)*?"#*', '""', source)
    source = re.sub(r'"(?:\\.|[^"\\])*"', '""', source)
    return re.sub(r"//[^\n]*", "", source)


def top_module(root, path):
    rel = path.relative_to(root)
    if rel.parts[0] in ("main.rs", "lib.rs"):
        return None
    return rel.parts[0].removesuffix(".rs")


def edges(root):
    found = {}
    for path in sorted(root.rglob("*.rs")):
        module = top_module(root, path)
        if module is None:
            continue
        code = strip(path.read_text())
        targets = set(re.findall(r"\bcrate::(\w+)", code))
        # `use crate::{a, b::c}` groups
        for group in re.findall(r"\bcrate::\{([^}]*)\}", code):
            targets |= set(re.findall(r"(?:^|[,{\s])(\w+)", group))
        found.setdefault(module, set()).update(t for t in targets if t != module)
    return found


def cycles(graph):
    """Tarjan's strongly connected components with more than one node."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = Path(args[0] if args else Path(__file__).resolve().parent.parent / "daemon" / "src")
    graph = edges(root)
    graph = {m: {t for t in ts if t in graph} for m, ts in graph.items()}
    if "--dot" in sys.argv:
        print("digraph modules {")
        for m in sorted(graph):
            for t in sorted(graph[m]):
                print(f'  "{m}" -> "{t}";')
        print("}")
    else:
        for m in sorted(graph):
            print(f"{m} -> {', '.join(sorted(graph[m])) or '(nothing)'}")
    found = cycles(graph)
    for component in found:
        print(f"cycle: {' <-> '.join(component)}", file=sys.stderr)
    if not found:
        print("no cycles", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
