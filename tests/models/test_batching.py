"""The one batch cutter behind the ONNX encoders and the Qwen3-VL models."""

from __future__ import annotations

from vlsearch.models.batching import cut_sorted_batches
from vlsearch.models.qwen3vl.backbone import plan_batches


def test_batches_are_cut_before_the_row_that_breaks_the_budget() -> None:
    # sorted: 1 (idx 1), 2 (idx 3), 3 (idx 2), 5 (idx 0); 2 rows at most, 6 padded tokens at most
    assert plan_batches([5, 1, 3, 2], token_budget=6, max_batch_size=2) == [[1, 3], [2], [0]]
    assert plan_batches([4, 4, 4], token_budget=100, max_batch_size=8) == [[0, 1, 2]]
    # a row over budget on its own still gets a batch (the model reports what it cannot take)
    assert plan_batches([50], token_budget=6, max_batch_size=2) == [[0]]
    assert plan_batches([], token_budget=6, max_batch_size=2) == []


def test_the_cutter_asks_rows_and_padded_width_of_the_grown_batch() -> None:
    asked: list[tuple[int, int]] = []

    def too_big(rows: int, longest: int) -> bool:
        asked.append((rows, longest))
        return rows * longest * longest > 20

    assert cut_sorted_batches([3, 1, 2], too_big) == [[1, 2], [0]]
    assert asked == [(2, 2), (3, 3)]
