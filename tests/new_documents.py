"""A copy of the policy folder with two more documents (issue 26, item 7): the Xinfeng plan of the ingestion example
(examples/ingest/) and the Anyuan workshop measures (examples/workshop/), both written for houfu, not official,
and both data only: clauses, vocabulary, calculators and rule cases, no Python.

``tests/test_new_documents.py`` builds it on every run; ``make test-new-documents`` runs the tests that read the
policy folder against it (``HOUFU_POLICIES``). ``python -m tests.new_documents DIR`` writes it to ``DIR``.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
#: The policy folder houfu ships (the two seeds), whatever ``HOUFU_POLICIES`` says: the tests about the bundled
#: documents themselves load this one, so that ``make test-new-documents`` (which points ``HOUFU_POLICIES`` at a
#: copy with more documents) does not change what they are about.
BUNDLED = ROOT / "houfu" / "policies"
#: (example folder, document id): each folder holds registry.yaml (the lines it adds to the shared registries)
NEW_DOCUMENTS = ((ROOT / "examples" / "ingest", "xinfeng-2024"), (ROOT / "examples" / "workshop", "anyuan-2025"))


def policy_copy_with_new_documents(folder: Path) -> Path:
    """``folder`` made a copy of houfu/policies with the two documents and their registry lines added."""
    shutil.copytree(ROOT / "policies", folder, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))  # data, not a package
    for example, doc_id in NEW_DOCUMENTS:
        for name, lines in yaml.safe_load((example / "registry.yaml").read_text(encoding="utf-8")).items():
            with (folder / name).open("a", encoding="utf-8") as fh:
                fh.write(textwrap.indent(lines, "  "))  # under the file's top-level list
        shutil.copytree(example / doc_id, folder / doc_id)
    return folder


if __name__ == "__main__":
    print(policy_copy_with_new_documents(Path(sys.argv[1])))
