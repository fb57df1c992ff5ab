"""Pictures of the responsibility graph (matplotlib): the whole network, or one department.

Labels are English (the machine may have no CJK font); clause ids keep the documents' numbering.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from houfu.kb.graph import ROLE_RANK, Graph, Matrix, resolve_body, responsibility_matrix
from houfu.kb.loader import KB

__all__ = ["MatrixPicture", "matrix_picture", "render"]

_ROLE_STYLE = {"lead": ("#c0392b", "-", 2.2), "shared": ("#7f8c8d", "-", 0.8), "named": ("#2e86c1", "--", 1.2)}


def render(kb: KB, G: Graph, out: Path, department: str | None = None) -> Path:
    """Draw who answers for what, as SVG or PNG (by the file's suffix).

    The whole network is a body x clause matrix (a line drawing of 60 bodies and 36 clauses
    is a hairball); one department's duties are a fan of labelled clauses.  Labels are English
    (the machine has no CJK font); clause ids keep the documents' numbering.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = responsibility_matrix(G)
    if department:
        bid = "body:" + resolve_body(kb, department)
        fig = _fan(kb, G, plt, bid, grid)
    else:
        fig = _matrix(kb, G, plt, grid)
    fig.savefig(out, bbox_inches="tight", dpi=110)
    plt.close(fig)
    return out


def _clause_label(kb: KB, node: str) -> str:
    c = kb.clauses[node.split(":", 1)[1]]
    return f"{c.id}  {', '.join(kb.topics[t].en for t in c.topics[:2])}"


def _matrix(kb: KB, G: Graph, plt: Any, m: Matrix) -> Any:
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    clauses, bodies = m.clauses, m.bodies
    grid = [[ROLE_RANK.get(m.cells.get((b, c), ""), 0) for c in clauses] for b in bodies]
    fig, ax = plt.subplots(figsize=(4 + len(clauses) * 0.28, 2 + len(bodies) * 0.22))
    cmap = ListedColormap(["#ffffff", "#5dade2", "#95a5a6", "#c0392b"])
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=3, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(clauses)), [_clause_label(kb, c) for c in clauses], rotation=90, fontsize=7)
    ax.set_yticks(range(len(bodies)), [f"{G.nodes[b]['en']} ({m.count(b)})" for b in bodies], fontsize=7)
    ax.set_xticks([x - 0.5 for x in range(len(clauses) + 1)], minor=True)
    ax.set_yticks([y - 0.5 for y in range(len(bodies) + 1)], minor=True)
    ax.grid(which="minor", color="#e5e5e5", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    docs = [G.nodes[c]["document"] for c in clauses]
    for i in range(1, len(docs)):
        if docs[i] != docs[i - 1]:
            ax.axvline(i - 0.5, color="#333", linewidth=1.2)
    ax.legend(handles=[Patch(color="#c0392b", label="lead"), Patch(color="#95a5a6", label="shared"),
                       Patch(color="#5dade2", label="named in the text")],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False, fontsize=8)
    order = list(dict.fromkeys(docs))
    ax.set_title("Who answers for each clause: " + ", ".join(order) + (" (left to right)" if len(order) > 1 else ""),
                 fontsize=10, pad=24)
    return fig


def _fan(kb: KB, G: Graph, plt: Any, bid: str, m: Matrix) -> Any:
    clauses = [c for c in m.clauses if (bid, c) in m.cells]
    fig, ax = plt.subplots(figsize=(12, 1.5 + len(clauses) * 0.35))
    center = -(len(clauses) - 1) / 2
    for i, v in enumerate(clauses):
        role = m.cells[(bid, v)]
        color, style, width = _ROLE_STYLE[role]
        ax.plot([0, 1], [center, -i], color=color, linestyle=style, linewidth=width)
        ax.text(1.02, -i, f"{_clause_label(kb, v)}  [{role}]", ha="left", va="center", fontsize=8)
    ax.text(-0.02, center, f"{G.nodes[bid]['en']}\n{len(clauses)} clause(s)", ha="right", va="center", fontsize=9)
    for role, (color, style, width) in _ROLE_STYLE.items():
        ax.plot([], [], color=color, linestyle=style, linewidth=width, label=role)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    ax.set_title(f"Duties of {G.nodes[bid]['en']}", fontsize=11, pad=22)
    ax.set_xlim(-1.1, 2.2)
    ax.axis("off")
    return fig


@dataclass
class MatrixPicture:
    """The responsibility grid laid out for an SVG page (templates/service_graph.html.j2): Chinese labels, which
    the browser renders with its own fonts, and every cell a link to its clause."""

    bodies: list[tuple[str, str, int]]  # (name, full name, clauses it answers for)
    clauses: list[tuple[str, str, str, str]]  # (clause id, document, number, heading)
    cells: list[tuple[int, int, str, str]]  # (column, row, role, clause id)
    breaks: list[int]  # columns where a new document starts
    documents: list[tuple[str, int, int]]  # (document, first column, columns)


def matrix_picture(kb: KB, G: Graph, document: str | None = None) -> MatrixPicture:
    """The body x clause grid of one document's responsibilities, or of all, ready to draw."""
    m = responsibility_matrix(G, document)
    docs = [G.nodes[c]["document"] for c in m.clauses]
    bodies = [(G.nodes[b]["label"], G.nodes[b].get("full_name") or G.nodes[b]["label"], m.count(b)) for b in m.bodies]
    clauses = []
    for c in m.clauses:
        cl = kb.clauses[c.split(":", 1)[1]]
        clauses.append((cl.id, G.nodes[c]["document"], cl.number, cl.heading))
    cells = [(x, y, m.cells[(b, c)], clauses[x][0]) for y, b in enumerate(m.bodies) for x, c in enumerate(m.clauses)
             if (b, c) in m.cells]
    breaks = [i for i in range(1, len(docs)) if docs[i] != docs[i - 1]]
    starts = [0, *breaks]
    spans = [(docs[a], a, (breaks + [len(docs)])[k] - a) for k, a in enumerate(starts)] if docs else []
    return MatrixPicture(bodies, clauses, cells, breaks, spans)
