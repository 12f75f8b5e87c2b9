"""The prompt must be byte-identical to the official template (literal copied from the reference)."""

from __future__ import annotations

from vlsearch.models.qwen3vl.inputs import SideContent
from vlsearch.models.qwen3vl.prompt import embed_instruction, embed_prompt, rerank_prompt, side_content
from vlsearch.rerank.qwen3vl import Qwen3VLReranker

# The reference's template, with {instruction}, {Q}, {D} left for str.format and \n as newlines.
REFERENCE_TEMPLATE = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
    'Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n'
    "<Instruct>: {instruction}<Query>:{Q}\n<Document>:{D}<|im_end|>\n<|im_start|>assistant\n"
)
DEFAULT_INSTRUCTION = "Given a search query, retrieve relevant candidates that answer the query."
VIDEO = "<|vision_start|><|video_pad|><|vision_end|>"
IMAGE = "<|vision_start|><|image_pad|><|vision_end|>"


def test_text_pair_matches_reference_literal() -> None:
    got = rerank_prompt(
        side_content(("A cat standing in the snow.",), 0, 0),
        side_content(("This product was excellent and exceeded my expectations.",), 0, 0),
    )
    want = REFERENCE_TEMPLATE.format(
        instruction=DEFAULT_INSTRUCTION,
        Q="A cat standing in the snow.",
        D="This product was excellent and exceeded my expectations.",
    )
    assert got == want
    assert "\n<Query>" not in got and " <Query>" not in got and "<Query>: " not in got


def test_order_is_videos_then_images_then_texts_without_separators() -> None:
    reranker = Qwen3VLReranker(model_name_or_path="unused")  # cheap: nothing loads
    query = SideContent(texts=("q1", "q2"), images=("a.png",), videos=("v.mp4",))
    doc = SideContent(texts=("d",), images=("b.png", "c.png"))
    got = reranker.build_prompt(query, doc, "Find it.")
    want = REFERENCE_TEMPLATE.format(instruction="Find it.", Q=VIDEO + IMAGE + "q1q2", D=IMAGE + IMAGE + "d")
    assert got == want
    assert not reranker.loaded


def test_empty_side_is_null() -> None:
    got = rerank_prompt(side_content((), 0, 0), side_content((), 1, 0), "I")
    assert got == REFERENCE_TEMPLATE.format(instruction="I", Q="NULL", D=IMAGE)


def test_embed_prompt_adds_period_only_when_unpunctuated() -> None:
    assert embed_instruction("Retrieve relevant passages") == "Retrieve relevant passages."
    assert embed_instruction("Represent the user's input.") == "Represent the user's input."
    assert embed_instruction("What matches?") == "What matches?"
    got = embed_prompt("hello", "Represent the user's input")
    assert got == (
        "<|im_start|>system\nRepresent the user's input.<|im_end|>\n"
        "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n"
    )
