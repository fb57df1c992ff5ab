"""The application layer: input files, presentation (terminal text, briefs, pictures), the interview and the CLI."""
