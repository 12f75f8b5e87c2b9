"""One router per feature: search, rerank, documents (+ jobs), media, models, health, ui."""
