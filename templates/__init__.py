"""Jinja2 templates for briefs."""
