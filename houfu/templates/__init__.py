"""Jinja2 templates for briefs."""


# The top-level templates/ is a link into houfu/templates (the design card's layout): one tree, imported under one name.
if __name__ != "houfu.templates":
    raise ImportError("templates/ is a view of houfu/templates: import houfu.templates, not {} (run from any folder; "
                      "the package is installed as houfu)".format(__name__))
