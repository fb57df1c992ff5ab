"""The rules: compile the knowledge base's rule data, evaluate it three-valued, explain the result.

No click, no jinja2, no file reading, no CLI words in errors: the application layer does those.
"""


# The top-level engine/ is a link into houfu/engine (the design card's layout): one tree, imported under one name.
if __name__ != "houfu.engine":
    raise ImportError("engine/ is a view of houfu/engine: import houfu.engine, not {} (run from any folder; "
                      "the package is installed as houfu)".format(__name__))
