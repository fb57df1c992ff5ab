"""Knowledge-base data: policy documents, bodies, jurisdictions, topics and glossary (YAML)."""
