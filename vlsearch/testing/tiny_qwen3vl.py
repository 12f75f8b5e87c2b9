"""Build a tiny, randomly initialised Qwen3-VL model folder for tests and demos without real weights.

The folder has the same layout as a real Qwen3-VL-Reranker/Embedding checkpoint (config, safetensors,
tokenizer, Qwen3VLProcessor), so everything that loads it goes through the production loading path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

# Varied English so byte-level BPE learns common words; "yes"/"no" must end up as single tokens.
_CORPUS = (
    "Judge whether the Document meets the requirements based on the Query and the Instruct provided. "
    'Note that the answer can only be "yes" or "no". yes no yes no Yes No\n'
    "Given a search query, retrieve relevant candidates that answer the query.\n"
    "Represent the user's input. Retrieve relevant passages.\n"
    "Find a document image that matches the given query.\n"
    "A cat standing in the snow. This product was excellent and exceeded my expectations.\n"
    "The power supply module of the server must be replaced when the red alarm light is on.\n"
    "0.5 1.0 1.5 2.0 2.5 3.0 seconds <Instruct>: <Query>: <Document>: NULL\n"
    "<|im_start|>system\n<|im_end|>\n<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n"
    "the quick brown fox jumps over the lazy dog while a woman plays with her dog on the beach\n"
)


def build_tokenizer(vocab_size: int = 1000):  # -> PreTrainedTokenizerFast
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([_CORPUS] * 20, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=[
            "<|im_start|>",
            "<|vision_start|>",
            "<|vision_end|>",
            "<|image_pad|>",
            "<|video_pad|>",
        ],
    )
    # Like the real Qwen tokenizer: single-token yes/no, and a 5-token prompt tail.
    for text, expected in (("yes", 1), ("no", 1), ("<|im_end|>\n<|im_start|>assistant\n", 5)):
        ids = fast.encode(text, add_special_tokens=False)
        if len(ids) != expected:
            raise RuntimeError(f"tiny tokenizer split {text!r} into {ids}; extend the corpus")
    return fast


def build_config(tokenizer, *, hidden: int = 64, layers: int = 2, vision_depth: int = 2):
    from transformers import Qwen3VLConfig

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    heads, head_dim = 4, 16
    # mrope_section must sum to head_dim / 2.
    text_config = {
        "vocab_size": len(tokenizer),
        "hidden_size": hidden,
        "intermediate_size": hidden * 2,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": 2,
        "head_dim": head_dim,
        "max_position_embeddings": 32768,
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": 5_000_000.0,
            "mrope_section": [4, 2, 2],
            "mrope_interleaved": True,
        },
        "pad_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "bos_token_id": ids["<|endoftext|>"],
    }
    vision_config = {
        "depth": vision_depth,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 2,
        "patch_size": 16,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "out_hidden_size": hidden,
        "num_position_embeddings": 64,
        "deepstack_visual_indexes": [0],
    }
    return Qwen3VLConfig(
        text_config=text_config,
        vision_config=vision_config,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )


def build_processor(tokenizer):
    from transformers import Qwen2VLImageProcessor, Qwen3VLProcessor, Qwen3VLVideoProcessor

    # Qwen3-VL's vision settings, shared by its image and video processors; only the size cap differs
    vision: dict[str, Any] = {
        "patch_size": 16,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
    }
    image_processor = Qwen2VLImageProcessor(**vision, size={"shortest_edge": 4096, "longest_edge": 1_843_200})
    video_processor = Qwen3VLVideoProcessor(**vision, size={"shortest_edge": 4096, "longest_edge": 7_864_320})
    return Qwen3VLProcessor(
        image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor
    )


def build_tiny_qwen3vl(out_dir: str | Path, *, seed: int = 0, hidden: int = 64, layers: int = 2) -> Path:
    """Write a tiny random Qwen3VLForConditionalGeneration + processor to `out_dir`; return the path.

    The same seed gives the same weights, so scores computed from two builds are comparable.
    """
    from transformers import Qwen3VLForConditionalGeneration

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    config = build_config(tokenizer, hidden=hidden, layers=layers)
    torch.manual_seed(seed)
    model = Qwen3VLForConditionalGeneration(config).eval()
    # Random init leaves weights near zero; widen them so scores spread over (0, 1) and bugs show.
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.ndim >= 2 and "embed" not in name:
                param.normal_(0.0, 0.2)
    model.save_pretrained(out)
    build_processor(tokenizer).save_pretrained(out)
    return out


if __name__ == "__main__":
    import sys

    print(build_tiny_qwen3vl(sys.argv[1] if len(sys.argv) > 1 else "tiny-qwen3vl"))
