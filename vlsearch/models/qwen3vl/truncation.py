"""Special-token-preserving truncation, as the official reranker does it.

Visual pad tokens must all survive (their count must match the vision features) and the prompt's
closing tokens must stay at the end (the score is read at the last position), so only ordinary
text tokens are dropped, from the tail.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

TAIL_TOKENS = 5  # <|im_end|> \n <|im_start|> assistant \n


def truncate_ids(
    ids: Sequence[int], *, max_length: int, special_ids: Collection[int], tail: int = TAIL_TOKENS
) -> list[int]:
    """Keep every special token and the first (max_length - #special) ordinary tokens of the body.

    The last `tail` tokens are set aside first and re-appended, so the result is at most
    max_length + tail long (the official code behaves the same way).
    """
    ids = list(ids)
    body, end = ids[: len(ids) - tail], ids[len(ids) - tail :]
    if len(body) <= max_length:
        return ids
    special = frozenset(special_ids)
    n_special = sum(1 for t in body if t in special)
    budget = max(0, max_length - n_special)
    kept: list[int] = []
    for token in body:
        if token in special:
            kept.append(token)
        elif budget > 0:
            kept.append(token)
            budget -= 1
    return kept + end
