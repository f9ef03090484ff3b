"""Fail when project modules import each other in a cycle, directly or through other modules, across packages.

import-linter's acyclic_siblings contract checks the children of each package; this check (run by `make lint`)
covers the whole graph of portal, jobs, integrations and fakes at once, so a cycle through two root packages or
through a module outside every layer is caught too. The one shape allowed is a package's `__init__` importing its
own submodules (a blueprint registering its views).
"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

ROOT_PACKAGES = ("portal", "jobs", "integrations", "fakes")


def _is_own_submodule(importer: str, imported: str) -> bool:
    return imported.startswith(importer + ".")


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that reach each other through imports (Tarjan's strongly connected components)."""
    edges = {
        module: sorted(m for m in graph.find_modules_directly_imported_by(module) if not _is_own_submodule(module, m))
        for module in graph.modules
    }
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    # Iterative depth-first search: the import graph is deep enough to hit Python's recursion limit.
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            module, position = work.pop()
            if position == 0:
                index[module] = lowlink[module] = len(index)
                stack.append(module)
                on_stack.add(module)
            targets = edges[module]
            if position < len(targets):
                work.append((module, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    lowlink[module] = min(lowlink[module], index[target])
                continue
            if lowlink[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[module])
    return cycles


def main() -> int:
    """Print every cycle with one import chain each way round it; exit 1 if there is any."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the packages live at the repository root
    graph = grimp.build_graph(*ROOT_PACKAGES, cache_dir=None)
    cycles = import_cycles(graph)
    for group in cycles:
        first, second = group[0], group[1]
        there = " -> ".join(graph.find_shortest_chain(importer=first, imported=second) or ())
        back = " -> ".join(graph.find_shortest_chain(importer=second, imported=first) or ())
        print(f"Import cycle between {len(group)} modules: {', '.join(group)}\n  {there}\n  {back}")
    print(f"Import cycles: {len(cycles)}")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
