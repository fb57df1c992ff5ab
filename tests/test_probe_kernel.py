"""The kernel probe's generator (benchmarks/probe_kernel.py): the figure it gives is only worth its agreement, so its
generated kernel, run as plain Python (numba is no dependency of houfu), must give the column evaluator's masks for
every target of the benchmark caseload's parts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def test_the_generated_kernel_gives_the_column_evaluators_masks_for_every_target(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    import houfu
    from benchmarks.bench_screen import write_caseload
    from benchmarks.probe_kernel import _Kernel, decided_parts
    from houfu.engine.vector import VectorEvaluator

    write_caseload(tmp_path, 400, {"parquet"})
    kb = houfu.load()
    parts = decided_parts(kb, tmp_path)
    assert {"+".join(p.documents) for p, _ in parts} == {"dingnan-2023", "shiyan-2019"}
    vector = VectorEvaluator(kb)
    compared = 0
    for program, caseload in parts:
        cp = vector.compiled(program)
        kernel = _Kernel(cp, caseload)
        got = kernel.run(kernel.python(), caseload)
        masks = cp.evaluate(caseload)
        assert kernel.keys == [t.key for t in program.targets]
        for r, key in enumerate(kernel.keys):
            t, f = masks[key]
            assert np.array_equal(got[r] == 1, t), key
            assert np.array_equal(got[r] == 2, f), key
            compared += int(t.sum() + f.sum())
        # Every state shows up somewhere: true, false and unknown, so the comparison is not of empty masks.
        assert {0, 1, 2} <= set(np.unique(got).tolist())
    assert compared > 0
