"""The evaluation sets, each written in BEIR layout by one function.

faq        503 real English Q&A pairs (PyPI `zaragoza-construction-faq`): answers are the corpus.
lexical    generated service-manual passages that differ mainly in fault codes, part numbers and
           model names, so dense embeddings confuse them and exact tokens decide (fixed seed).
zh         Chinese questions over Chinese passages (hand-written bilingual material below).
xling-en-zh English questions over the Chinese passages; xling-zh-en the reverse.
mixed-en   English questions over one corpus holding half the passages in Chinese, half in English
           (each topic once): a Chinese answer must not lose to English passages on other topics.
mixed-zh   the same corpus, Chinese questions.
faq-sv-en  Swedish questions over the English FAQ answers (the package's real parallel text).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from vlsearch.eval.beir import BeirDoc, BeirQuery, BeirSet, write_set
from vlsearch.eval.bilingual import PAIRS


def _faq_rows(lang: str) -> list[dict[str, str]]:
    try:
        pkg = resources.files("zaragoza_construction_faq")
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            "the FAQ set needs `pip install zaragoza-construction-faq==1.2.1` (a dev dependency)"
        ) from exc
    name = "data/faq-en.jsonl" if lang == "en" else "data/faq.jsonl"
    text = pkg.joinpath(name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def faq_set() -> BeirSet:
    rows = _faq_rows("en")
    corpus = tuple(BeirDoc(id=f"a-{r['id']}", title="", text=r["a"]) for r in rows)
    queries = tuple(BeirQuery(id=f"q-{r['id']}", text=r["q"]) for r in rows)
    qrels = {f"q-{r['id']}": {f"a-{r['id']}": 1} for r in rows}
    return BeirSet(name="faq", corpus=corpus, queries=queries, qrels=qrels)


def faq_sv_en_set() -> BeirSet:
    """Swedish questions, English answers: cross-lingual on real parallel text."""
    en = {r["id"]: r for r in _faq_rows("en")}
    sv = [r for r in _faq_rows("sv") if r["id"] in en]
    corpus = tuple(BeirDoc(id=f"a-{i}", title="", text=r["a"]) for i, r in en.items())
    queries = tuple(BeirQuery(id=f"q-{r['id']}", text=r["q"]) for r in sv)
    qrels = {f"q-{r['id']}": {f"a-{r['id']}": 1} for r in sv}
    return BeirSet(name="faq-sv-en", corpus=corpus, queries=queries, qrels=qrels)


# ---- lexical-heavy: service manual entries -------------------------------------------------

_FAMILIES = ("XR", "KT", "MPX", "HV", "DL", "ZC")
_SYMPTOMS = (
    (
        "the coolant pump pressure has dropped below the minimum",
        "Check the coolant level and bleed air from the pump",
    ),
    (
        "the spindle motor drew more current than its rated limit",
        "Let the motor cool down and inspect the drive belt tension",
    ),
    (
        "the controller lost communication with the operator panel",
        "Reseat the panel cable and check the bus termination",
    ),
    (
        "the door interlock switch reported an open guard during a cycle",
        "Close the guard fully and test the interlock switch",
    ),
    (
        "the supply voltage fell outside the permitted range",
        "Measure the mains supply and check the input fuses",
    ),
    (
        "the temperature sensor in the hydraulic unit reads out of range",
        "Check the sensor wiring and replace the sensor if it is open",
    ),
    (
        "the encoder on the feed axis returned an invalid position",
        "Clean the encoder scale and check the encoder connector",
    ),
    (
        "the lubrication cycle did not complete in time",
        "Refill the lubricant reservoir and check the distributor blocks",
    ),
    (
        "the battery backing up the parameter memory is low",
        "Replace the backup battery with the controller switched on",
    ),
    (
        "the air pressure at the main valve is too low for tool change",
        "Check the compressor and the pressure regulator setting",
    ),
)
_PARTS = (
    "pump seal kit",
    "drive belt",
    "panel cable",
    "interlock switch",
    "input fuse",
    "temperature sensor",
    "encoder head",
    "distributor block",
    "backup battery",
    "pressure regulator",
)


def lexical_set(*, seed: int = 17, models: int = 12, codes_per_model: int = 25) -> BeirSet:
    """Fault-code entries for many machine models; queries name the code and the model.

    Each symptom text is reused across many entries, so a passage is told apart only by its code,
    model name and part number: the case where dense retrieval confuses neighbours and BM25 shines.
    """
    rng = random.Random(seed)
    model_names = sorted(
        {f"{rng.choice(_FAMILIES)}-{rng.randrange(100, 990, 10)}" for _ in range(models * 3)}
    )
    model_names = model_names[:models]
    corpus: list[BeirDoc] = []
    queries: list[BeirQuery] = []
    qrels: dict[str, dict[str, int]] = {}
    for m in model_names:
        codes = rng.sample(range(10, 99), codes_per_model)
        for code in codes:
            s = rng.randrange(len(_SYMPTOMS))
            symptom, action = _SYMPTOMS[s]
            part = f"PN-{rng.randrange(1000, 9999)}-{rng.choice('ABCDEFGH')}"
            doc_id = f"{m}-E{code}"
            text = (
                f"{m} fault E-{code}: {symptom}. {action}. If the fault returns after a restart, "
                f"order spare part {part} ({_PARTS[s]}) and log the fault code in the maintenance book."
            )
            corpus.append(BeirDoc(id=doc_id, title=f"{m} service manual, fault E-{code}", text=text))
            style = rng.randrange(3)
            if style == 0:
                q = f"What does fault E-{code} mean on the {m}?"
            elif style == 1:
                q = f"{m} shows E-{code}, what should I do?"
            else:
                q = f"Which spare part is {part} and which fault is it for?"
            qid = f"q-{doc_id}"
            queries.append(BeirQuery(id=qid, text=q))
            qrels[qid] = {doc_id: 1}
    return BeirSet(name="lexical", corpus=tuple(corpus), queries=tuple(queries), qrels=qrels)


# ---- Chinese and cross-lingual: hand-written parallel passages ---------------------------------


def zh_set() -> BeirSet:
    corpus = tuple(BeirDoc(id=f"zh-{i}", title="", text=p.zh_text) for i, p in enumerate(PAIRS))
    queries = tuple(BeirQuery(id=f"q-zh-{i}", text=p.zh_question) for i, p in enumerate(PAIRS))
    qrels = {f"q-zh-{i}": {f"zh-{i}": 1} for i in range(len(PAIRS))}
    return BeirSet(name="zh", corpus=corpus, queries=queries, qrels=qrels)


def xling_en_zh_set() -> BeirSet:
    """English questions over the Chinese passages."""
    corpus = tuple(BeirDoc(id=f"zh-{i}", title="", text=p.zh_text) for i, p in enumerate(PAIRS))
    queries = tuple(BeirQuery(id=f"q-en-{i}", text=p.en_question) for i, p in enumerate(PAIRS))
    qrels = {f"q-en-{i}": {f"zh-{i}": 1} for i in range(len(PAIRS))}
    return BeirSet(name="xling-en-zh", corpus=corpus, queries=queries, qrels=qrels)


def xling_zh_en_set() -> BeirSet:
    """Chinese questions over the English passages."""
    corpus = tuple(BeirDoc(id=f"en-{i}", title="", text=p.en_text) for i, p in enumerate(PAIRS))
    queries = tuple(BeirQuery(id=f"q-zh-{i}", text=p.zh_question) for i, p in enumerate(PAIRS))
    qrels = {f"q-zh-{i}": {f"en-{i}": 1} for i in range(len(PAIRS))}
    return BeirSet(name="xling-zh-en", corpus=corpus, queries=queries, qrels=qrels)


def _mixed_corpus() -> tuple[BeirDoc, ...]:
    """Even topics in Chinese, odd topics in English: every topic once, both languages side by side."""
    return tuple(
        BeirDoc(id=f"zh-{i}", title="", text=p.zh_text)
        if i % 2 == 0
        else BeirDoc(id=f"en-{i}", title="", text=p.en_text)
        for i, p in enumerate(PAIRS)
    )


def _mixed_qrels(prefix: str) -> dict[str, dict[str, int]]:
    return {f"{prefix}{i}": {(f"zh-{i}" if i % 2 == 0 else f"en-{i}"): 1} for i in range(len(PAIRS))}


def mixed_en_set() -> BeirSet:
    """English questions over a half-Chinese, half-English corpus (the answer is Chinese for half)."""
    queries = tuple(BeirQuery(id=f"q-en-{i}", text=p.en_question) for i, p in enumerate(PAIRS))
    return BeirSet(name="mixed-en", corpus=_mixed_corpus(), queries=queries, qrels=_mixed_qrels("q-en-"))


def mixed_zh_set() -> BeirSet:
    """Chinese questions over the same corpus (the answer is English for half)."""
    queries = tuple(BeirQuery(id=f"q-zh-{i}", text=p.zh_question) for i, p in enumerate(PAIRS))
    return BeirSet(name="mixed-zh", corpus=_mixed_corpus(), queries=queries, qrels=_mixed_qrels("q-zh-"))


SETS: dict[str, Callable[[], BeirSet]] = {
    "faq": faq_set,
    "lexical": lexical_set,
    "zh": zh_set,
    "xling-en-zh": xling_en_zh_set,
    "xling-zh-en": xling_zh_en_set,
    "faq-sv-en": faq_sv_en_set,
    "mixed-en": mixed_en_set,
    "mixed-zh": mixed_zh_set,
}


def write_eval_set(name: str, out_dir: Path) -> Path:
    """Write one named set in BEIR layout (corpus.jsonl, queries.jsonl, qrels.tsv) into out_dir."""
    try:
        build = SETS[name]
    except KeyError as exc:
        raise ValueError(f"unknown eval set {name!r}; choose one of {', '.join(SETS)}") from exc
    return write_set(build(), out_dir)
