"""The authoring room: the scaffold that drafts a document's data, the rule-case runner and the JSON Schemas.
Imports present, records, io and the core."""
