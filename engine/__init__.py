"""The rules: compile the knowledge base's rule data, evaluate it three-valued, explain the result.

No click, no jinja2, no file reading, no CLI words in errors: the application layer does those.
"""
