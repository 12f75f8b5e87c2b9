"""The exact Qwen3-VL-Reranker / Embedding prompts (the official code's strings, not the paper's)."""

from __future__ import annotations

from vlsearch.config import DEFAULT_RERANK_INSTRUCTION

RERANK_SYSTEM = (
    "Judge whether the Document meets the requirements based on the Query and the Instruct provided. "
    'Note that the answer can only be "yes" or "no".'
)
VIDEO_PLACEHOLDER = "<|vision_start|><|video_pad|><|vision_end|>"
IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"
EMPTY_SIDE = "NULL"
# The tokens after the document that truncation must never cut:
# <|im_end|> \n <|im_start|> assistant \n
ASSISTANT_TAIL = "<|im_end|>\n<|im_start|>assistant\n"

EMBED_DEFAULT_INSTRUCTION = "Represent the user's input."
EMBED_QUERY_INSTRUCTION = "Retrieve relevant passages."


def side_content(texts: tuple[str, ...], n_images: int, n_videos: int) -> str:
    """Videos first, then images, then texts, with no separators; an empty side is NULL."""
    parts = [VIDEO_PLACEHOLDER] * n_videos + [IMAGE_PLACEHOLDER] * n_images + list(texts)
    body = "".join(parts)
    return body if body else EMPTY_SIDE


def rerank_prompt(query: str, document: str, instruction: str | None = None) -> str:
    """`query`/`document` are already-built side contents (see `side_content`)."""
    instr = DEFAULT_RERANK_INSTRUCTION if instruction is None else instruction
    return (
        f"<|im_start|>system\n{RERANK_SYSTEM}<|im_end|>\n"
        f"<|im_start|>user\n<Instruct>: {instr}<Query>:{query}\n<Document>:{document}"
        f"{ASSISTANT_TAIL}"
    )


def embed_instruction(instruction: str) -> str:
    """The official embedder ends the instruction with punctuation, adding a period if missing."""
    text = instruction.strip()
    if text and not _ends_with_punctuation(text):
        text += "."
    return text


def _ends_with_punctuation(text: str) -> bool:
    import unicodedata

    return unicodedata.category(text[-1]).startswith("P")


def embed_prompt(content: str, instruction: str) -> str:
    return (
        f"<|im_start|>system\n{embed_instruction(instruction)}<|im_end|>\n"
        f"<|im_start|>user\n{content}{ASSISTANT_TAIL}"
    )
