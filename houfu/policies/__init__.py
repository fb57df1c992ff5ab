"""Knowledge-base data: policy documents, bodies, jurisdictions, topics and glossary (YAML)."""


# The top-level policies/ is a link into houfu/policies (the design card's layout): one tree, imported under one name.
if __name__ != "houfu.policies":
    raise ImportError("policies/ is a view of houfu/policies: import houfu.policies, not {} (run from any folder; "
                      "the package is installed as houfu)".format(__name__))
