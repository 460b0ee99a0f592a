"""A workflow drawn as SVG on the server: no JavaScript library, no CDN, any browser.

States are boxes in rows by breadth-first distance from the initial state (states it
cannot reach go in a last row); transitions between the same two states share one arrow
labelled with their titles. Arrows to the next row go straight down; arrows that skip rows
run down the left side, arrows back up the right side, so they do not cross the boxes.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

from markupsafe import Markup, escape

from fengqiao.cases.workflow import CaseType

FONT = 14
LABEL_FONT = 12
BOX_H = 40
GAP_X = 40
GAP_Y = 110
MARGIN = 40
SIDE = 44  # how far side arrows swing out, plus per arrow
STEP = 20


def text_width(text: str, size: float = FONT) -> float:
    """Rough rendered width: CJK full width, the rest a bit over half."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.62 for c in text)


def layers(ctype: CaseType) -> list[list[str]]:
    """State keys by BFS distance from the initial state, unreachable ones last."""
    successors: dict[str, list[str]] = defaultdict(list)
    for t in ctype.transitions.values():
        for source in t.sources:
            if t.target not in successors[source]:
                successors[source].append(t.target)
    depth = {ctype.initial_state: 0}
    queue = deque([ctype.initial_state])
    while queue:
        state = queue.popleft()
        for nxt in successors[state]:
            if nxt not in depth and nxt in ctype.states:
                depth[nxt] = depth[state] + 1
                queue.append(nxt)
    rows: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for state in sorted(depth, key=lambda s: (depth[s], list(ctype.states).index(s) if s in ctype.states else 0)):
        rows[depth[state]].append(state)
    stranded = [s for s in ctype.states if s not in depth]
    return rows + ([stranded] if stranded else [])


@dataclass
class Box:
    key: str
    title: str
    row: int
    x: float
    y: float
    w: float
    final: bool

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + BOX_H / 2

    @property
    def right(self) -> float:
        return self.x + self.w


def _boxes(ctype: CaseType) -> dict[str, Box]:
    rows = layers(ctype)
    widths = {k: max(88.0, text_width(ctype.state_title(k)) + 28) for row in rows for k in row}
    row_width = [sum(widths[k] for k in row) + GAP_X * (len(row) - 1) for row in rows]
    content = max(row_width)
    boxes = {}
    for i, row in enumerate(rows):
        x = MARGIN + (content - row_width[i]) / 2
        for k in row:
            boxes[k] = Box(k, ctype.state_title(k), i, x, MARGIN + i * (BOX_H + GAP_Y), widths[k], ctype.is_final(k))
            x += widths[k] + GAP_X
    return boxes


def _arrows(ctype: CaseType) -> dict[tuple[str, str], list[str]]:
    arrows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for t in ctype.transitions.values():
        for source in t.sources:
            if source in ctype.states and t.target in ctype.states:
                arrows[(source, t.target)].append(t.title)
    return arrows


def _ports(pairs: list[tuple[str, str]], boxes: dict[str, Box]) -> dict[tuple[str, str], tuple[float, float]]:
    """Spread arrows to the next row along the source's bottom and the target's top."""
    out, into = defaultdict(list), defaultdict(list)
    for pair in pairs:
        out[pair[0]].append(pair)
        into[pair[1]].append(pair)
    x_out, x_in = {}, {}
    for ports, side, other in ((out, x_out, 1), (into, x_in, 0)):
        for key, group in ports.items():
            box = boxes[key]
            group.sort(key=lambda p: boxes[p[other]].cx)
            for i, pair in enumerate(group):
                side[pair] = box.x + box.w * (i + 1) / (len(group) + 1)
    return {pair: (x_out[pair], x_in[pair]) for pair in pairs}


def _cubic_mid(p0, p1, p2, p3) -> tuple[float, float]:
    return ((p0[0] + 3 * p1[0] + 3 * p2[0] + p3[0]) / 8, (p0[1] + 3 * p1[1] + 3 * p2[1] + p3[1]) / 8)


@dataclass
class Route:
    source: str
    target: str
    points: list[tuple[float, float]]
    curved: bool  # points are one cubic Bézier; else a polyline drawn with rounded corners
    at: tuple[float, float]  # label position
    anchor: str  # SVG text-anchor of the label
    label: str

    def path(self) -> str:
        pts = self.points
        if self.curved:
            (x0, y0), (x1, y1), (x2, y2), (x3, y3) = pts
            return f"M{x0:.1f},{y0:.1f} C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x3:.1f},{y3:.1f}"
        parts = [f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"]
        for prev, corner, nxt in zip(pts, pts[1:], pts[2:], strict=False):
            a, b = _toward(corner, prev, CORNER), _toward(corner, nxt, CORNER)
            parts.append(f"L{a[0]:.1f},{a[1]:.1f} Q{corner[0]:.1f},{corner[1]:.1f} {b[0]:.1f},{b[1]:.1f}")
        parts.append(f"L{pts[-1][0]:.1f},{pts[-1][1]:.1f}")
        return " ".join(parts)

    def extent(self) -> tuple[float, float]:
        """Leftmost and rightmost x of the line and its label."""
        w = text_width(self.label, LABEL_FONT) + 8
        x = self.at[0]
        lo, hi = {"start": (x, x + w), "end": (x - w, x), "middle": (x - w / 2, x + w / 2)}[self.anchor]
        xs = [px for px, _ in self.points]
        return min(lo, *xs), max(hi, *xs)


CORNER = 8


def _toward(corner, other, r: float) -> tuple[float, float]:
    dx, dy = other[0] - corner[0], other[1] - corner[1]
    length = max(abs(dx), abs(dy)) or 1
    r = min(r, length / 2)
    return corner[0] + dx / length * r, corner[1] + dy / length * r


def _routes(ctype: CaseType, boxes: dict[str, Box]) -> list[Route]:
    """One route per arrow: next row straight down; same row an arc (rightward under the
    row, leftward over it); rows skipped down the left side; back up the right side."""
    arrows = _arrows(ctype)
    down = [p for p in arrows if boxes[p[1]].row == boxes[p[0]].row + 1]
    ports = _ports(down, boxes)
    routes, left_n, right_n = [], 0, 0
    for (s, t), titles in arrows.items():
        a, b = boxes[s], boxes[t]
        label = "、".join(titles)
        if s == t:  # a loop on the right side
            pts = [(a.right, a.cy - 8), (a.right + 46, a.cy - 30), (a.right + 46, a.cy + 30), (a.right, a.cy + 8)]
            routes.append(Route(s, t, pts, True, (a.right + 40, a.cy), "start", label))
        elif (s, t) in ports:
            x0, x1 = ports[(s, t)]
            bottom, top = a.y + BOX_H, b.y
            pts = [(x0, bottom), (x0, bottom + GAP_Y / 2), (x1, top - GAP_Y / 2), (x1, top)]
            routes.append(Route(s, t, pts, True, _cubic_mid(*pts), "middle", label))
        elif a.row == b.row:
            dip = 26 + 0.06 * abs(b.cx - a.cx)
            edge_y, bend = (a.y + BOX_H, dip) if b.cx > a.cx else (a.y, -dip)
            pts = [(a.cx, edge_y), (a.cx, edge_y + bend), (b.cx, edge_y + bend), (b.cx, edge_y)]
            routes.append(Route(s, t, pts, True, _cubic_mid(*pts), "middle", label))
        else:
            lo, hi = sorted((a.row, b.row))
            between = [box for box in boxes.values() if lo <= box.row <= hi]
            if b.row > a.row:  # skips rows: out of the bottom, down the left side, into the top
                left_n += 1
                lane = 10 + 6 * ((left_n - 1) % 4)
                x = min(box.x for box in between) - SIDE - STEP * (left_n - 1)
                sx, tx = a.x + a.w * 0.2, b.x + b.w * 0.2
                pts = [(sx, a.y + BOX_H), (sx, a.y + BOX_H + lane), (x, a.y + BOX_H + lane),
                       (x, b.y - lane), (tx, b.y - lane), (tx, b.y)]
                routes.append(Route(s, t, pts, False, (x - 4, (a.cy + b.cy) / 2), "end", label))
            else:  # back up: out of the top, up the right side, into the bottom
                right_n += 1
                lane = 10 + 6 * ((right_n - 1) % 4)
                x = max(box.right for box in between) + SIDE + STEP * (right_n - 1)
                sx, tx = a.x + a.w * 0.8, b.x + b.w * 0.8
                pts = [(sx, a.y), (sx, a.y - lane), (x, a.y - lane), (x, b.y + BOX_H + lane),
                       (tx, b.y + BOX_H + lane), (tx, b.y + BOX_H)]
                routes.append(Route(s, t, pts, False, (x + 4, (a.cy + b.cy) / 2), "start", label))
    return routes


def _spread(routes: list[Route], boxes: dict[str, Box]) -> list[Route]:
    """Move labels down (then up) until they stop overlapping the boxes and earlier labels."""
    placed = [(b.x, b.y, b.right, b.y + BOX_H) for b in boxes.values()]
    for route in routes:
        lo, hi = route.extent()
        lo, hi = (lo, hi) if route.anchor == "middle" else (
            (route.at[0], hi) if route.anchor == "start" else (lo, route.at[0]))
        x, y = route.at
        for dy in (0, 15, -15, 30, -30, 45, -45, 60, -60):
            box = (lo, y + dy - 8, hi, y + dy + 8)
            if not any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3] for o in placed):
                break
        placed.append(box)
        route.at = (x, box[1] + 8)
    return routes


STYLE = (
    ".wf-box{fill:#fff;stroke:#3b6ea5;stroke-width:1.5}"
    ".wf-final .wf-box{fill:#eef6ee;stroke:#2e7d32;stroke-width:2.5}"
    ".wf-final .wf-inner{fill:none;stroke:#2e7d32;stroke-width:1}"
    ".wf-initial .wf-box{stroke-width:2.5}"
    ".wf-state text{font-size:14px;fill:#1f2933;text-anchor:middle;dominant-baseline:central}"
    ".wf-arrow path{fill:none;stroke:#5f6b7a;stroke-width:1.3}"
    ".wf-arrow text{font-size:12px;fill:#243b53;stroke:#fff;stroke-width:4px;paint-order:stroke;"
    "stroke-linejoin:round;dominant-baseline:central}"
    ".wf-start{fill:#3b6ea5}"
    "text{font-family:'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif}"
)


def workflow_svg(ctype: CaseType, title: str | None = None) -> Markup:
    """The diagram as an inline ``<svg>`` element (safe to put straight into a page)."""
    boxes = _boxes(ctype)
    routes = _spread(_routes(ctype, boxes), boxes)
    extents = [r.extent() for r in routes]
    left = min([0.0] + [lo - 8 for lo, _ in extents])
    width = max([max(b.right for b in boxes.values()) + MARGIN] + [hi + 8 for _, hi in extents])
    height = max(b.y for b in boxes.values()) + BOX_H + MARGIN
    name = escape(title or f"{ctype.title}流程图（第 {ctype.version} 版）")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="wf-diagram" role="img" aria-labelledby="wf-title" '
        f'viewBox="{left:.0f} 0 {width - left:.0f} {height:.0f}" width="{width - left:.0f}" height="{height:.0f}">',
        f'<title id="wf-title">{name}</title><style>{STYLE}</style>',
        '<defs><marker id="wf-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5f6b7a"/></marker></defs>',
    ]
    for r in routes:
        out.append(
            f'<g class="wf-arrow" data-from="{escape(r.source)}" data-to="{escape(r.target)}">'
            f'<path d="{r.path()}" marker-end="url(#wf-head)"/>'
            f'<text x="{r.at[0]:.1f}" y="{r.at[1]:.1f}" text-anchor="{r.anchor}">{escape(r.label)}</text></g>'
        )
    start = boxes[ctype.initial_state]
    out.append(f'<circle class="wf-start" cx="{start.cx:.1f}" cy="{start.y - 26:.1f}" r="6"/>'
               f'<g class="wf-arrow"><path d="M{start.cx:.1f},{start.y - 20:.1f} V{start.y:.1f}" '
               'marker-end="url(#wf-head)"/></g>')
    for box in boxes.values():
        kinds = " wf-final" if box.final else ""
        kinds += " wf-initial" if box.key == ctype.initial_state else ""
        inner = (f'<rect class="wf-inner" x="{box.x + 3:.1f}" y="{box.y + 3:.1f}" width="{box.w - 6:.1f}" '
                 f'height="{BOX_H - 6}" rx="5"/>') if box.final else ""
        out.append(
            f'<g class="wf-state{kinds}" data-state="{escape(box.key)}">'
            f'<rect class="wf-box" x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{BOX_H}" rx="8"/>'
            f'{inner}<text x="{box.cx:.1f}" y="{box.cy:.1f}">{escape(box.title)}</text></g>'
        )
    out.append("</svg>")
    return Markup("".join(out))
