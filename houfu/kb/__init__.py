"""The knowledge base: load, validate and query the policy data (pure, typed, no CLI)."""


# The top-level kb/ is a link into houfu/kb (the design card's layout): one tree, imported under one name.
if __name__ != "houfu.kb":
    raise ImportError("kb/ is a view of houfu/kb: import houfu.kb, not {} (run from any folder; "
                      "the package is installed as houfu)".format(__name__))
