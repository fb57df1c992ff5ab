"""GET /docs: the API described from its own OpenAPI document, rendered here from the installed package's
template, for logged-in users (issue 23, §7). FastAPI's Swagger UI and ReDoc are not used: their scripts are not
shipped in the fastapi wheel and would load from a public CDN; this page loads nothing from anywhere and runs no
script. The OpenAPI document itself (/openapi.json) stays open, for a client generator or a local Swagger UI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ..deps import Lang, PagesDep, caseworker_page

router = APIRouter(include_in_schema=False, dependencies=[Depends(caseworker_page)])


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, pages: PagesDep, lang: Lang = "zh") -> HTMLResponse:
    schema: dict[str, Any] = request.app.openapi()
    operations = [{"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                   "parameters": [(p["name"], p.get("in", ""), bool(p.get("required"))) for p in op.get("parameters", [])],
                   "body": list(op.get("requestBody", {}).get("content", {})), "responses": list(op.get("responses", {}))}
                  for path, item in schema.get("paths", {}).items() for method, op in item.items()]
    return pages.render("service_api.html.j2", lang, request, info=schema.get("info", {}), operations=operations)
