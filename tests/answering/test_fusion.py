from bot.answering.retrieval import fuse


def test_item_found_by_both_retrievers_beats_items_found_by_one():
    fused = fuse([("a", 0.9), ("b", 0.8)], [("b", 12.0), ("c", 9.0)])
    assert list(fused)[0] == "b"
    assert set(fused) == {"a", "b", "c"}


def test_rank_not_raw_score_decides():
    fused = fuse([("a", 0.31), ("b", 0.30)], [("a", 1.0), ("b", 900.0)])
    # b's far higher BM25 score does not matter: a comes first in both lists
    assert list(fused) == ["a", "b"] and fused["a"] > fused["b"]


def test_weights_shift_the_balance():
    fused = fuse([("a", 1.0)], [("b", 1.0)], weights=(1.0, 2.0))
    assert list(fused) == ["b", "a"]
