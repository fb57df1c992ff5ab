"""Would a compiled kernel decide faster than the column evaluator? A probe (issue 25), not part of houfu.

    pip install numba    # not a dependency of houfu: this probe alone uses it
    python benchmarks/probe_kernel.py [SIZE] [RUNS] [--keep FOLDER]
    python benchmarks/probe_kernel.py 1000000 3 --keep /tmp/speed-bench

Issue 25 names "the fused array program per kb_version" as the way past the one-worker target. This probe writes
one: from each program's compiled column nodes (``engine.columns.ColumnProgram``, the same interned nodes the
screener evaluates), it generates a Python function that walks the households one by one and every node of each
in order, each node's truth as two booleans (known true, known false: Kleene's logic without a branch), a member
quantifier as a loop over the household's members, and compiles it with numba (``njit``). It checks that the
kernel's masks equal the column evaluator's for every target of every part of the caseload, then times both over
the same parts, CPU of this thread, min and median of RUNS.

The caseload is the benchmark's (benchmarks/caseload.py), read by the screener's own streaming reader, each part
decided as ``houfu screen`` decides it (the facts derived as of the run's date). Nothing here is timed by a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2026, 1, 1)


class _Kernel:
    """One program's kernel: the generated source, the columns it reads (by level and fact) and its targets."""

    def __init__(self, cp: Any, caseload: Any):
        self.cp, self.caseload = cp, caseload
        self.columns: dict[tuple[str, str], int] = {}
        self.lines: list[str] = []
        self.done: dict[tuple[int, Any], str] = {}
        self.concepts: dict[str, str] = {}
        self.count = 0
        self.keys: list[str] = []
        for t in cp.program.targets:
            v = self._emit(cp.nodes[t.key], 8, "i", ())
            if t.kind.value == "concept":
                self.concepts[t.name] = v
            self.keys.append(t.key)
            self.lines.append(f"        out[{len(self.keys) - 1}, i] = {v}t + 2 * {v}f")
        args = ", ".join(f"c{k}" for k in range(len(self.columns)))
        self.source = "\n".join([f"def kernel(n, out, mstart, mcount, mknown, estart, ecount, eknown, {args}):",
                                 "    for i in range(n):", *self.lines])

    def _col(self, level: str, fact: str) -> str:
        return f"c{self.columns.setdefault((level, fact), len(self.columns))}"

    def _emit(self, node: Any, indent: int, row: str, scope: Any) -> str:
        from houfu.engine import columns as C
        from houfu.kb.conditions import Op

        key = (id(node), scope)
        if key in self.done:
            return self.done[key]
        self.count += 1
        v, sp, out = f"v{self.count}", " " * indent, self.lines
        if isinstance(node, C._Leaf):
            a = f"{self._col(node.level, node.fact)}[{row}]"
            known = f"({a} == {a})"  # not NaN
            ops = {Op.eq: "==", Op.ne: "!=", Op.ge: ">=", Op.gt: ">", Op.le: "<=", Op.lt: "<"}
            codec = self.caseload.level(node.level).codec
            if node.ref is not None:
                b = f"{self._col(node.level, node.ref)}[{row}]"
                known, cmp = f"({known} & ({b} == {b}))", f"({a} {ops[node.op]} {b})"
            elif node.op is Op.in_:
                codes = [c for c in (codec.encode_constant(node.fact, x) for x in node.constant) if c is not None]
                cmp = "(" + " | ".join(f"({a} == {c!r})" for c in codes) + ")" if codes else "False"
            else:
                c = codec.encode_constant(node.fact, node.constant)
                cmp = repr(node.op is Op.ne) if c is None else f"({a} {ops[node.op]} {float(c)!r})"
            out.append(f"{sp}{v}k = {known}; {v}c = {cmp}; {v}t = {v}k & {v}c; {v}f = {v}k & (not {v}c)")
        elif isinstance(node, C._And):  # _Or is an _And
            parts = [self._emit(p, indent, row, scope) for p in node.parts]
            any_, all_ = ("t", "f") if isinstance(node, C._Or) else ("f", "t")
            out.append(f"{sp}{v}{any_} = {' | '.join(p + any_ for p in parts)}; "
                       f"{v}{all_} = {' & '.join(p + all_ for p in parts)}")
        elif isinstance(node, C._Not):
            x = self._emit(node.inner, indent, row, scope)
            out.append(f"{sp}{v}t = {x}f; {v}f = {x}t")
        elif isinstance(node, C._MemberConcept | C._Concept):
            if isinstance(node, C._Concept) and node.level != "main":
                out.append(f"{sp}{v}t = False; {v}f = False")  # unknown inside a quantifier, as the evaluator has it
            else:
                x = (self.concepts[node.name] if isinstance(node, C._Concept)
                     else self._emit(node.definition, indent, row, scope))
                out.append(f"{sp}{v}t = {x}t; {v}f = {x}f" if node.value else f"{sp}{v}t = {x}f; {v}f = {x}t")
        elif isinstance(node, C._Always):
            out.append(f"{sp}{v}t = True; {v}f = False")
        elif isinstance(node, C._Quantified):
            lv = "m" if node.collection == "members" else "e"
            self.count += 1
            j = f"j{self.count}"
            out.append(f"{sp}{v}nt = 0; {v}nf = 0")
            out.append(f"{sp}for {j} in range({lv}start[{row}], {lv}start[{row}] + {lv}count[{row}]):")
            saved = dict(self.done)
            x = self._emit(node.inner, indent + 4, j, (scope, id(node)))
            self.done = saved  # an item's nodes live inside the loop
            out.append(f"{sp}    {v}nt += {x}t; {v}nf += {x}f")
            n, known = f"{lv}count[{row}]", f"{lv}known[{row}]"
            if node.every:
                out.append(f"{sp}{v}t = {known} & ({v}nt == {n}); {v}f = {known} & ({v}nf > 0)")
            else:
                out.append(f"{sp}{v}t = {known} & ({v}nt > 0); {v}f = {known} & ({v}nf == {n})")
        else:
            raise TypeError(f"no kernel for {type(node).__name__}")
        self.done[key] = v
        return v

    def python(self) -> Any:
        """The kernel as plain Python, uncompiled: what numba compiles (and what the probe's test runs)."""
        import numpy as np

        scope: dict[str, Any] = {"np": np}
        exec(self.source, scope)  # noqa: S102 - the probe's own generated source
        return scope["kernel"]

    def compile(self) -> Any:
        import numba

        return numba.njit(nogil=True)(self.python())

    def run(self, fn: Any, caseload: Any) -> Any:
        import numpy as np

        out = np.empty((len(self.keys), caseload.n), np.int8)
        cols = [None] * len(self.columns)
        for (level, fact), k in self.columns.items():
            cols[k] = caseload.level(level).column(fact)
        m, e = caseload.members, caseload.entities
        fn(caseload.n, out, m.start, m.count, m.known, e.start, e.count, e.known, *cols)
        return out


def decided_parts(kb: Any, folder: Path) -> list[tuple[Any, Any]]:
    """Each (program, caseload) the screener decides over the caseload in ``folder``, as it decides it."""
    import houfu
    from houfu.engine.vector import VectorEvaluator
    from houfu.io.tables import arrow_without_pandas
    from houfu.screen import screener as S

    arrow_without_pandas()
    parts: list[tuple[Any, Any]] = []
    decide = VectorEvaluator.decide

    def keep(self: Any, program: Any, caseload: Any, as_of: dt.date, *a: Any, **k: Any) -> Any:
        parts.append((program, self.derived(caseload, as_of)))  # the part as it is decided
        return decide(self, program, caseload, as_of, *a, **k)

    VectorEvaluator.decide = keep  # type: ignore[method-assign]
    try:
        S.screen_stream(kb, houfu.evaluator(kb), folder / "households.parquet", folder / "members.parquet",
                        folder / "businesses.parquet", AS_OF, None)
    finally:
        VectorEvaluator.decide = decide  # type: ignore[method-assign]
    return parts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=1_000_000)
    parser.add_argument("runs", nargs="?", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="a folder of benchmark caseloads (nSIZE), kept between runs")
    args = parser.parse_args()
    try:
        import numba  # noqa: F401
    except ImportError:
        print("probe_kernel.py: numba is not installed (pip install numba); houfu does not need it", file=sys.stderr)
        return 2
    import numpy as np

    import houfu
    from benchmarks.bench_floors import _caseload
    from houfu.engine.vector import VectorEvaluator

    kb = houfu.load()
    parts = decided_parts(kb, _caseload(args.size, args.keep))
    vector = VectorEvaluator(kb)
    households = sum(c.n for _, c in parts)
    kernels: dict[int, tuple[Any, _Kernel, Any]] = {}
    for program, caseload in parts:
        if id(program) not in kernels:
            cp = vector.compiled(program)
            k = _Kernel(cp, caseload)
            t = time.perf_counter()
            fn = k.compile()
            k.run(fn, caseload.take(np.arange(min(10, caseload.n))))  # numba compiles at the first call
            print(f"{'+'.join(program.documents)}: {len(cp.compiled)} nodes, {len(k.columns)} columns, "
                  f"{len(k.source.splitlines())} lines, compiled in {time.perf_counter() - t:.2f} s")
            kernels[id(program)] = (cp, k, fn)
    for program, caseload in parts:
        cp, k, fn = kernels[id(program)]
        masks = cp.evaluate(caseload)
        got = k.run(fn, caseload)
        for r, key in enumerate(k.keys):
            t_, f_ = masks[key]
            if not (np.array_equal(got[r] == 1, t_) and np.array_equal(got[r] == 2, f_)):
                print(f"the kernel disagrees with the column evaluator on {key}", file=sys.stderr)
                return 1
        cp.release()
    print(f"agreement: every target's masks equal, {len(parts)} parts, {households:,} households")
    column, kernel = [], []
    for _ in range(args.runs):
        t0 = time.thread_time()
        for program, caseload in parts:
            cp = kernels[id(program)][0]
            cp.evaluate(caseload)
            cp.release()
        t1 = time.thread_time()
        for program, caseload in parts:
            _, k, fn = kernels[id(program)]
            k.run(fn, caseload)
        column.append(t1 - t0)
        kernel.append(time.thread_time() - t1)
    for name, xs in (("column evaluator (numpy)", column), ("compiled kernel (numba)", kernel)):
        print(f"{name}: {min(xs):.3f} / {statistics.median(xs):.3f} CPU-s (min / median of {args.runs}), "
              f"{min(xs) / households * 1e6:.2f} µs a household")
    return 0


if __name__ == "__main__":
    sys.exit(main())
