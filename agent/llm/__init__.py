"""Language model: weights resolution and streaming chat generation."""
