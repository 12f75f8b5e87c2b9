"""Text analysis below the models and retrieval layers (no model, no store): language detection."""
