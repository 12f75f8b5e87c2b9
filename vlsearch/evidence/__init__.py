"""Evidence regions: where on a hit's page, figure or frame the words that answer a query sit.

`boxes` holds the compact line boxes a row stores (ingest), `align` finds a row's lines in its text
(ingest), `highlight` picks the lines that match a query (search time, a fraction of a millisecond).
"""
