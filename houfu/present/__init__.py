"""The presentation room: terminal text, letters, briefs, pictures and the interview's questions, in the
words of the templates. Imports io and the core; never FastAPI or click."""
