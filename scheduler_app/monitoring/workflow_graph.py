"""A workflow graph drawn on the server as SVG: no JavaScript, nothing fetched from elsewhere.

Steps are laid out in columns by their depth (the longest path from a step
without parents), edges drawn as arrows labelled with their condition. Each
step is coloured by its state in the current run if it has one there, else
by its last run; the steps of the current run get a thick outline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

NODE_W = 170
NODE_H = 46
COL_GAP = 90
ROW_GAP = 26
PAD = 16

#: Fill colour per state (run statuses, step statuses): green done, red failed, amber waiting.
COLOURS = {
    "success": "#3c9a5f",
    "failed": "#c9473c",
    "timeout": "#c9473c",
    "abandoned": "#c9473c",
    "cancelled": "#8a8a8a",
    "skipped": "#b0b0b0",
    "waiting": "#d9a521",
    "queued": "#417690",
    "running": "#417690",
    "enqueued": "#417690",
    "planned": "#cfd8dc",
    "": "#e8e8e8",
}
EDGE_COLOURS = {"success": "#3c9a5f", "failure": "#c9473c", "always": "#555555"}
DARK_TEXT = {"planned", "", "skipped", "waiting"}


@dataclass(frozen=True)
class Node:
    id: int
    label: str
    state: str  # a key of COLOURS
    state_label: str
    in_run: bool = False
    url: str = ""


@dataclass(frozen=True)
class Edge:
    source: int
    target: int
    condition: str


def layout(nodes: Sequence[Node], edges: Sequence[Edge]) -> dict[int, tuple[int, int]]:
    """(column, row) of every node: column = longest path from a node without parents."""
    ids = [n.id for n in nodes]
    parents: dict[int, list[int]] = {i: [] for i in ids}
    for e in edges:
        if e.source in parents and e.target in parents:
            parents[e.target].append(e.source)
    depth: dict[int, int] = {}

    def depth_of(node: int, trail: frozenset[int] = frozenset()) -> int:
        if node in depth:
            return depth[node]
        if node in trail:  # a stored cycle cannot exist, but never recurse for ever
            return 0
        value = max((depth_of(p, trail | {node}) + 1 for p in parents[node]), default=0)
        depth[node] = value
        return value

    rows: dict[int, int] = {}
    place: dict[int, tuple[int, int]] = {}
    for node in ids:
        column = depth_of(node)
        place[node] = (column, rows.get(column, 0))
        rows[column] = rows.get(column, 0) + 1
    return place


def _centre(place: tuple[int, int]) -> tuple[float, float]:
    column, row = place
    return (
        PAD + column * (NODE_W + COL_GAP) + NODE_W / 2,
        PAD + row * (NODE_H + ROW_GAP) + NODE_H / 2,
    )


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(nodes: Sequence[Node], edges: Sequence[Edge], *, title: str = "") -> SafeString:
    """The graph as an inline ``<svg>`` element."""
    if not nodes:
        return format_html('<p class="help">{}</p>', _("No steps."))
    place = layout(nodes, edges)
    columns = max(c for c, _ in place.values()) + 1
    rows = max(r for _, r in place.values()) + 1
    width = PAD * 2 + columns * NODE_W + (columns - 1) * COL_GAP
    height = PAD * 2 + rows * NODE_H + (rows - 1) * ROW_GAP
    arrows = format_html_join(
        "", "{}", ((_edge(e, place),) for e in edges if e.source in place and e.target in place)
    )
    boxes = format_html_join("", "{}", ((_node(n, place[n.id]),) for n in nodes))
    markers = format_html_join(
        "",
        '<marker id="sched-arrow-{}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{}"/>'
        "</marker>",
        EDGE_COLOURS.items(),
    )
    return format_html(
        '<svg class="sched-workflow" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" '
        'viewBox="0 0 {} {}" role="img" aria-label="{}"><title>{}</title><defs>{}</defs>{}{}</svg>',
        width,
        height,
        width,
        height,
        title or _("Workflow"),
        title or _("Workflow"),
        markers,
        arrows,
        boxes,
    )


def _edge(edge: Edge, place: dict[int, tuple[int, int]]) -> SafeString:
    (sx, sy), (tx, ty) = _centre(place[edge.source]), _centre(place[edge.target])
    x1, x2 = sx + NODE_W / 2, tx - NODE_W / 2
    if place[edge.target][0] <= place[edge.source][0]:  # same column: from the side, round
        x1, x2 = sx + NODE_W / 2, tx + NODE_W / 2
    colour = EDGE_COLOURS.get(edge.condition, "#555555")
    mid_x, mid_y = (x1 + x2) / 2, (sy + ty) / 2 - 4
    return format_html(
        '<g class="sched-edge" data-condition="{}"><path d="M {} {} C {} {}, {} {}, {} {}" '
        'fill="none" stroke="{}" stroke-width="1.6"{} marker-end="url(#sched-arrow-{})"/>'
        '<text x="{}" y="{}" text-anchor="middle" class="sched-axis" fill="{}">{}</text></g>',
        edge.condition,
        f"{x1:.1f}",
        f"{sy:.1f}",
        f"{x1 + COL_GAP / 2:.1f}",
        f"{sy:.1f}",
        f"{x2 - COL_GAP / 2:.1f}",
        f"{ty:.1f}",
        f"{x2:.1f}",
        f"{ty:.1f}",
        colour,
        mark_safe(' stroke-dasharray="5 3"') if edge.condition == "always" else "",
        edge.condition,
        f"{mid_x:.1f}",
        f"{mid_y:.1f}",
        colour,
        {"success": _("on success"), "failure": _("on failure"), "always": _("always")}.get(
            edge.condition, edge.condition
        ),
    )


def _node(node: Node, place: tuple[int, int]) -> SafeString:
    cx, cy = _centre(place)
    x, y = cx - NODE_W / 2, cy - NODE_H / 2
    fill = COLOURS.get(node.state, COLOURS[""])
    text = "#1b1b1b" if node.state in DARK_TEXT else "#ffffff"
    box = format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" rx="7" fill="{}" stroke="{}" stroke-width="{}"/>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="13" font-weight="bold" fill="{}">{}</text>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{}">{}</text>',
        f"{x:.1f}",
        f"{y:.1f}",
        NODE_W,
        NODE_H,
        fill,
        "#1b1b1b" if node.in_run else "#777777",
        4 if node.in_run else 1,
        f"{cx:.1f}",
        f"{cy - 4:.1f}",
        text,
        _short(node.label),
        f"{cx:.1f}",
        f"{cy + 13:.1f}",
        text,
        node.state_label,
    )
    group = format_html(
        '<g class="sched-step" id="sched-step-{}" data-state="{}" data-current="{}"><title>{}</title>{}</g>',
        node.id,
        node.state,
        "yes" if node.in_run else "no",
        node.label,
        box,
    )
    if node.url:
        return format_html('<a href="{}">{}</a>', node.url, group)
    return group
