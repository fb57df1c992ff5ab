"""The web room: the FastAPI service and its pages. Imports every room below it; never click."""
