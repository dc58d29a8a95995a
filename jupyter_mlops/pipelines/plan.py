"""The DAG of a pipeline: each step's dependencies (``needs`` and the steps its references
name), cycles, and a dependency order."""

from __future__ import annotations

from collections.abc import Mapping

from .references import references_in
from .spec import PipelineSpec


def dependencies(spec: PipelineSpec) -> dict[str, list[str]]:
    """Each step's direct upstream steps (known ones only), in file order."""
    names = list(spec.steps)
    deps: dict[str, list[str]] = {}
    for name, step in spec.steps.items():
        wanted = set(step.needs) | {r.step for r in references_in(step.parameters)}
        deps[name] = [n for n in names if n in wanted and n != name]
    return deps


def find_cycles(deps: Mapping[str, list[str]]) -> list[list[str]]:
    """The cycles of the graph (each once, as the path that closes it)."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = dict.fromkeys(deps, WHITE)
    stack: list[str] = []
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        color[node] = GREY
        stack.append(node)
        for up in deps.get(node, []):
            if color.get(up) == GREY:
                cycle = [*stack[stack.index(up) :], up]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    cycles.append(cycle)
            elif color.get(up) == WHITE:
                visit(up)
        stack.pop()
        color[node] = BLACK

    for node in deps:
        if color[node] == WHITE:
            visit(node)
    return cycles


def topological_order(deps: Mapping[str, list[str]]) -> list[str]:
    """Steps with every dependency before them, ties in file order (no cycles assumed)."""
    done: list[str] = []
    placed: set[str] = set()
    remaining = list(deps)
    while remaining:
        ready = [n for n in remaining if all(d in placed for d in deps[n])]
        if not ready:
            raise ValueError(f"cycle among {', '.join(remaining)}")
        for n in ready:
            done.append(n)
            placed.add(n)
        remaining = [n for n in remaining if n not in placed]
    return done


def downstream(deps: Mapping[str, list[str]], start: str) -> set[str]:
    """Every step that depends, directly or not, on ``start``."""
    out: set[str] = set()
    frontier = [start]
    while frontier:
        node = frontier.pop()
        for name, ups in deps.items():
            if node in ups and name not in out:
                out.add(name)
                frontier.append(name)
    return out
