"""A small multimodal evaluation set built only from material that ships in packages.

Corpus: scikit-image's sample photographs (public-domain or CC0 images bundled with the package)
saved under file names that say what they show, a selection of the generated enterprise documents
of `vlsearch.demo`, and the demo rack photo, LED status figure and racking video. Queries: text,
image (crops and re-renders, never the corpus file itself) and video (a re-encoded racking clip),
each with graded judgments. `write_media_set(out_dir)` writes the same set every time.

Layout (BEIR plus paths, all relative to the set folder):
  corpus.jsonl   {"_id", "title", "text", "path"?}     path = a file to ingest instead of the text
  queries.jsonl  {"_id", "text", "image"?, "video"?}
  qrels.tsv      query-id  corpus-id  score
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from PIL import Image

# skimage sample -> (corpus id, file name in words, the caption we wrote for it)
PHOTOS: dict[str, tuple[str, str, str]] = {
    "astronaut": (
        "photo-astronaut",
        "astronaut_portrait_in_spacesuit_with_flag.png",
        "Portrait of an astronaut in a white spacesuit in front of the American flag",
    ),
    "coffee": (
        "photo-coffee",
        "cup_of_coffee_on_saucer.png",
        "A cup of coffee with latte art on a saucer with a spoon",
    ),
    "chelsea": ("photo-cat", "tabby_cat_chelsea_lying.png", "A tabby cat lying down, looking at the camera"),
    "rocket": (
        "photo-rocket",
        "rocket_on_launch_pad.png",
        "A rocket standing on its launch pad before launch",
    ),
    "coins": ("photo-coins", "old_coins_on_table_grayscale.png", "Old coins lying on a table, grayscale"),
    "hubble_deep_field": (
        "photo-hubble",
        "hubble_deep_field_galaxies.png",
        "Hubble deep field: many distant galaxies on black sky",
    ),
}

# demo document builder name -> corpus id
DEMO_DOCS: dict[str, str] = {
    "node07_hardware_diagnostic_manual.pdf": "doc-node07-manual",
    "server_racking_sop.docx": "doc-racking-sop",
    "raid_controller_error_codes.xlsx": "doc-raid-codes",
    "it_helpdesk_faq.md": "doc-helpdesk-faq",
    "vpn_remote_access_guide.html": "doc-vpn-guide",
    "psu_replacement_procedure_zh.docx": "doc-psu-zh",
    "datacenter_climate_standard_zh.md": "doc-climate-zh",
}

# query id -> (text, image file or "", video file or "", {corpus id: grade})
QUERIES: dict[str, tuple[str, str, str, dict[str, int]]] = {
    "t-astronaut": ("astronaut in a spacesuit", "", "", {"photo-astronaut": 2}),
    "t-coffee": ("cup of coffee", "", "", {"photo-coffee": 2}),
    "t-cat": ("cat lying down", "", "", {"photo-cat": 2}),
    "t-rocket": ("rocket on the launch pad", "", "", {"photo-rocket": 2}),
    "t-galaxies": ("picture of distant galaxies", "", "", {"photo-hubble": 2}),
    "t-raid": ("RAID controller error codes", "", "", {"doc-raid-codes": 2}),
    "t-racking": ("how to mount a server in the rack", "", "", {"doc-racking-sop": 2, "video-racking": 1}),
    "t-vpn": ("connect to the VPN from home", "", "", {"doc-vpn-guide": 2}),
    "t-psu-zh": ("电源模块更换步骤", "", "", {"doc-psu-zh": 2}),
    "t-climate-zh": ("机房温湿度标准", "", "", {"doc-climate-zh": 2}),
    "i-rack": ("", "query_rack_photo.jpg", "", {"photo-node07-rack": 2, "doc-node07-manual": 1}),
    "i-led": ("", "query_led_figure.png", "", {"figure-led-codes": 2, "doc-node07-manual": 1}),
    "i-astronaut": ("", "query_astronaut_crop.jpg", "", {"photo-astronaut": 2}),
    "i-coffee": ("", "query_coffee_crop.jpg", "", {"photo-coffee": 2}),
    "i-cat": ("", "query_cat_crop.jpg", "", {"photo-cat": 2}),
    "v-racking": ("", "", "query_racking_clip.mp4", {"video-racking": 2, "doc-racking-sop": 1}),
    "v-racking-text": (
        "racking steps",
        "",
        "query_racking_clip.mp4",
        {"video-racking": 2, "doc-racking-sop": 2},
    ),
}


def _crop(img: Image.Image, box: tuple[float, float, float, float], size: int = 256) -> Image.Image:
    w, h = img.size
    part = img.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
    part.thumbnail((size, size))
    return part.convert("RGB")


def write_media_set(out_dir: Path) -> Path:
    """Write the set into `out_dir` (created) and return it; the same files on every call."""
    import skimage.data

    from vlsearch.demo.corpus import build_demo_corpus
    from vlsearch.demo.media import led_status_figure, rack_photo, racking_video

    files = out_dir / "files"
    queries_dir = out_dir / "queries"
    files.mkdir(parents=True, exist_ok=True)
    queries_dir.mkdir(parents=True, exist_ok=True)
    corpus: list[dict[str, str]] = []

    photos: dict[str, Image.Image] = {}
    for sample, (doc_id, name, caption) in PHOTOS.items():
        img = Image.fromarray(getattr(skimage.data, sample)())
        photos[sample] = img
        img.convert("RGB").save(files / name, format="PNG")
        corpus.append({"_id": doc_id, "title": caption, "text": caption, "path": f"files/{name}"})

    with tempfile.TemporaryDirectory(prefix="vlsearch-demo-") as tmp:
        written = {p.name: p for p in build_demo_corpus(Path(tmp))}
        for name in DEMO_DOCS:
            shutil.copyfile(written[name], files / name)
    for name, doc_id in DEMO_DOCS.items():
        corpus.append({"_id": doc_id, "title": name, "text": "", "path": f"files/{name}"})

    rack_photo().save(files / "node07_rack_warning.jpg", format="JPEG", quality=90)
    led_status_figure().save(files / "led_status_codes.png", format="PNG")
    racking_video(files / "server_racking_procedure.mp4", seconds_per_step=2.0, fps=2, size=(480, 270))
    corpus += [
        {
            "_id": "photo-node07-rack",
            "title": "Node-07 rack warning photo",
            "text": "",
            "path": "files/node07_rack_warning.jpg",
        },
        {
            "_id": "figure-led-codes",
            "title": "LED status codes figure",
            "text": "",
            "path": "files/led_status_codes.png",
        },
        {
            "_id": "video-racking",
            "title": "Server racking procedure video",
            "text": "",
            "path": "files/server_racking_procedure.mp4",
        },
    ]

    # Query media: other renders and crops, never a corpus file.
    rack_photo(size=(640, 480), seed=11).save(queries_dir / "query_rack_photo.jpg", format="JPEG", quality=80)
    led_status_figure(size=(600, 380)).save(queries_dir / "query_led_figure.png", format="PNG")
    _crop(photos["astronaut"], (0.2, 0.0, 0.8, 0.7)).save(queries_dir / "query_astronaut_crop.jpg")
    _crop(photos["coffee"], (0.15, 0.1, 0.85, 0.9)).save(queries_dir / "query_coffee_crop.jpg")
    _crop(photos["chelsea"], (0.1, 0.0, 0.9, 1.0)).save(queries_dir / "query_cat_crop.jpg")
    racking_video(queries_dir / "query_racking_clip.mp4", seconds_per_step=1.0, fps=2, size=(320, 180))

    query_rows = []
    for qid, (text, image, video, _) in QUERIES.items():
        row: dict[str, str] = {"_id": qid, "text": text}
        if image:
            row["image"] = f"queries/{image}"
        if video:
            row["video"] = f"queries/{video}"
        query_rows.append(row)

    for fname, rows in (("corpus.jsonl", corpus), ("queries.jsonl", query_rows)):
        with (out_dir / fname).open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    with (out_dir / "qrels.tsv").open("w", encoding="utf-8", newline="") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for qid, (_, _, _, judged) in QUERIES.items():
            for doc_id, grade in judged.items():
                fh.write(f"{qid}\t{doc_id}\t{grade}\n")
    return out_dir
