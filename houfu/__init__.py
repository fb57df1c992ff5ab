"""houfu (后扶): post-relocation follow-up support policy as code."""
