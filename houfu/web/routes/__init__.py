"""One router per resource, in the manner of the FastAPI project template and Datasette's one module per view.
``create_app`` includes them in this order; each route declares who may use it (``houfu.web.deps``)."""

from fastapi import APIRouter

from . import (
                                  check,
                                  docs,
                                  health,
                                  login,
                                  owners,
                                  pages,
                                  policy,
                                  records,
                                  screens,
                                  sites,
                                  users,
                                  worklists,
)

__all__ = ["ROUTERS"]

#: The JSON API (in the OpenAPI document), then the pages (not in it).
ROUTERS: tuple[APIRouter, ...] = (check.router, sites.router, screens.router, records.router, owners.router,
                                  users.router, health.router, login.router, pages.router, policy.router,
                                  users.pages, worklists.router, docs.router)
