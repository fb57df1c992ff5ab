"""The web room: the FastAPI service and its pages (docs/web.md). ``app.create_app`` builds the app from one
router per resource (``routes``), each route given its state and its user by the dependencies in ``deps``.
Imports every room below it; never click."""
