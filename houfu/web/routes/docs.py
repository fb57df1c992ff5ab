"""GET /docs and /redoc: the API's viewers, for logged-in users only (they load FastAPI's Swagger UI and ReDoc
from a CDN, which an anonymous visitor has no business making the browser fetch; issue 23, §7). The OpenAPI
document itself (/openapi.json) stays open."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from ..deps import caseworker_page

router = APIRouter(include_in_schema=False, dependencies=[Depends(caseworker_page)])


@router.get("/docs", response_class=HTMLResponse)
def swagger() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="houfu · API")


@router.get("/redoc", response_class=HTMLResponse)
def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title="houfu · API")
