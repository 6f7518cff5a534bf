"""Small, dependency-light helpers shared by llmspell's modules."""
