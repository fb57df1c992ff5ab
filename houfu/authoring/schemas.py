"""JSON Schemas written out for editors and other systems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from houfu.engine.results import Report
from houfu.kb.loader import KB
from houfu.kb.query import input_schema, kb_schemas

__all__ = ["dump_json", "schema_for", "write_kb_schemas"]


def dump_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_kb_schemas(out_dir: Path) -> list[Path]:
    """One JSON Schema file per knowledge-base file format."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in kb_schemas().items():
        path = out_dir / f"{name}.schema.json"
        path.write_text(dump_json(schema), encoding="utf-8")
        written.append(path)
    return written


def schema_for(kb: KB, kind: str) -> dict[str, Any]:
    """The JSON Schema of an input (household, site, under the knowledge base's vocabulary), of the report, or of
    a screen's summary (from the screen room, which the authoring room does not import)."""
    if kind == "report":
        return Report.model_json_schema()
    return input_schema(kb, kind)
