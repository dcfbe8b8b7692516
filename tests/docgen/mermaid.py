"""Reads back the flowcharts docgen/diagram.py writes, so tests assert on the graph, not on text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NODE = re.compile(r'\s+(\w+)[\[\(>{/]+"(.*)"[\]\)}/]+(?::::(\w+))?')
_GROUP = re.compile(r'\s+subgraph (\w+) \["(.*)"\]')
_EDGE = re.compile(r"\s+(\w+) (-->|-\.->|==>)(?:\|([^|]*)\|)? (\w+)")


@dataclass
class Graph:
    labels: dict[str, str] = field(default_factory=dict)  # node id -> label
    classes: dict[str, str] = field(default_factory=dict)  # node id -> classDef name
    groups: dict[str, list[str]] = field(default_factory=dict)  # subgraph id -> node ids
    group_titles: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)  # (from, arrow, label, to) as written

    def reaches(self, source: str) -> dict[str, tuple[str, str]]:
        """target id -> (arrow, label) of each edge from `source`; an edge to a box reaches its nodes."""
        out = {}
        for start, arrow, label, end in self.edges:
            if start == source:
                for target in self.groups.get(end, [end]):
                    out[target] = (arrow, label)
        return out

    def node_labelled(self, text: str) -> list[str]:
        return [node for node, label in self.labels.items() if text in label.split("<br>")]


def blocks(markdown: str) -> list[list[str]]:
    """The ```mermaid blocks of a Markdown text, each as its lines."""
    return [block.split("\n") for block in re.findall(r"^```mermaid\n(.*?)\n```$", markdown, flags=re.M | re.S)]


def parse(lines: list[str]) -> Graph:
    graph = Graph()
    group = None
    for line in lines[1:]:
        if match := _GROUP.fullmatch(line):
            group = match[1]
            graph.groups[group], graph.group_titles[group] = [], match[2]
        elif line.strip() == "end":
            group = None
        elif match := _EDGE.fullmatch(line):
            graph.edges.append((match[1], match[2], match[3] or "", match[4]))
        elif match := _NODE.fullmatch(line):
            graph.labels[match[1]] = match[2]
            if match[3]:
                graph.classes[match[1]] = match[3]
            if group is not None:
                graph.groups[group].append(match[1])
        elif not line.strip().startswith(("direction ", "classDef ")):
            raise AssertionError(f"not a line docgen/diagram.py writes: {line!r}")
    return graph
