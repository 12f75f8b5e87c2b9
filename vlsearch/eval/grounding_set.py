"""A grounding evaluation set: documents whose every line's position is known when it is written.

Four kinds of media, each written here line by line so the box of every line is recorded as it is
drawn: born-digital PDFs (fpdf2, Helvetica; a line's box spans its advance width and the font's
ascender to descender), scanned pages (an image of typed lines placed as a whole PDF page, with
paper tint, noise and blur), slide decks exported as pictures (a PPTX whose slides are full-slide
images), and a training video whose scenes are such slides. Each query asks for one line (the
answer line); `write_grounding_set(out_dir)` writes the BEIR layout of vlsearch.eval.media_set plus,
per query, its answer region:

  queries.jsonl  {"_id", "text", "regions": [{"doc", "page" | "slide" | "t": [t0, t1], "box", "text",
                  "kind"}]}

`box` is [x0, y0, x1, y1] in [0, 1] of the page, slide image or video frame, y downwards.
`vlsearch eval` scores, per kind, whether the hit on the answer's page / slide / moment boxes
the answer line among its top three highlights (IoU >= 0.5).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Box = tuple[float, float, float, float]

KINDS = ("pdf", "scanned", "slides", "video")


@dataclass(frozen=True)
class Line:
    text: str
    style: str = "body"  # title | heading | body
    query: str = ""  # a question this line answers ("" for context lines)


@dataclass(frozen=True)
class Unit:
    """A page, slide or video scene: its lines in reading order."""

    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Source:
    id: str
    kind: str  # pdf | scanned | slides | video
    file: str
    units: tuple[Unit, ...]


def _u(*lines: Line | str) -> Unit:
    return Unit(tuple(line if isinstance(line, Line) else Line(line) for line in lines))


def _t(text: str) -> Line:
    return Line(text, "title")


def _h(text: str) -> Line:
    return Line(text, "heading")


def _q(text: str, query: str) -> Line:
    return Line(text, "body", query)


SOURCES: tuple[Source, ...] = (
    Source(
        "pdf-cooling",
        "pdf",
        "cooling_and_fans_manual.pdf",
        (
            _u(
                _t("Cooling and fan maintenance"),
                _h("1. Fan tray"),
                "Each chassis holds one hot-swappable fan tray with six fans.",
                "The tray slides out from the rear after the two thumbscrews are loosened.",
                _q(
                    "Replace the fan tray FT-220 every 24 months of continuous operation.",
                    "how often should the fan tray be replaced",
                ),
                "A replacement tray ships with new gaskets; reuse of old gaskets is not supported.",
                _h("2. Air filters"),
                "The front bezel carries a washable foam filter.",
                _q(
                    "Clean the intake filter monthly with dry compressed air, never with water.",
                    "how do I clean the intake air filter",
                ),
                "Dust on the filter raises inlet temperature and fan speed.",
                _h("3. Fan speed"),
                _q(
                    "Fans run at 40 percent duty cycle below 25 C inlet temperature.",
                    "what fan duty cycle at low inlet temperature",
                ),
                "Above 35 C inlet the controller drives every fan to full speed.",
            ),
            _u(
                _h("4. Alarms"),
                "The baseboard controller watches every fan once per second.",
                _q(
                    "Error E-31 means one fan spins below 1500 RPM for more than ten seconds.",
                    "what does error E-31 mean",
                ),
                "Error E-32 means the fan tray is missing or not fully seated.",
                _q(
                    "An amber LED on the fan tray handle marks the failed fan.",
                    "which LED shows the failed fan",
                ),
                _h("5. Thermal limits"),
                _q(
                    "The server shuts down when the CPU reaches 98 C for five seconds.",
                    "at what CPU temperature does the server shut down",
                ),
                "Keep the rack inlet between 18 C and 27 C as recommended by ASHRAE.",
                _q(
                    "Blanking panels must fill every empty rack unit to stop hot air recirculation.",
                    "why install blanking panels in empty rack units",
                ),
            ),
        ),
    ),
    Source(
        "pdf-storage",
        "pdf",
        "storage_array_operations.pdf",
        (
            _u(
                _t("Storage array operations"),
                _h("Disk replacement"),
                "The array holds 24 drives in two shelves of twelve.",
                _q(
                    "Wait until the drive LED blinks blue before pulling a failed disk.",
                    "when can I pull a failed disk from the array",
                ),
                "Insert the new drive and close the latch; the rebuild starts by itself.",
                _q(
                    "A rebuild of one 8 TB drive takes about 14 hours under normal load.",
                    "how long does a drive rebuild take",
                ),
                _h("Snapshots"),
                _q(
                    "Hourly snapshots are kept for 48 hours and daily snapshots for 30 days.",
                    "how long are daily snapshots retained",
                ),
                "Snapshots do not replace off-site backups.",
            ),
            _u(
                _h("Capacity"),
                _q(
                    "Raise a capacity ticket when a pool passes 80 percent usage.",
                    "when should I raise a capacity ticket for a storage pool",
                ),
                "Thin provisioned volumes may report more space than the pool holds.",
                _h("Firmware"),
                _q(
                    "Firmware updates are applied to one controller at a time during the Sunday window.",
                    "when are storage controller firmware updates applied",
                ),
                "Check that both controllers are healthy before starting an update.",
                _q(
                    "Never power off the array while the write cache battery is charging.",
                    "can I power off the array while the cache battery charges",
                ),
            ),
        ),
    ),
    Source(
        "pdf-network",
        "pdf",
        "network_switch_guide.pdf",
        (
            _u(
                _t("Top-of-rack switch guide"),
                _h("Management access"),
                _q(
                    "The management interface listens on VLAN 99 at address 10.20.99.2.",
                    "what is the management VLAN of the switch",
                ),
                "Only the jump host may open SSH sessions to the switch.",
                _q(
                    "Console access uses 9600 baud, 8 data bits, no parity and one stop bit.",
                    "console baud rate for the switch",
                ),
                _h("Uplinks"),
                "Each switch has four 100G uplinks to the spine layer.",
                _q(
                    "Uplink ports 49 to 52 are bundled into port-channel 100 with LACP.",
                    "which ports form the uplink port-channel",
                ),
                _q(
                    "Jumbo frames of 9216 bytes are enabled on all storage VLANs.",
                    "what MTU is used on storage VLANs",
                ),
            ),
        ),
    ),
    Source(
        "scan-warranty",
        "scanned",
        "warranty_and_service_records.pdf",
        (
            _u(
                _t("Warranty and service card"),
                "Product: rack server model R740 compute node",
                _q("Serial number SN-4471-B-0093", "what is the serial number on the warranty card"),
                _q("Warranty valid until 31 March 2028", "until when is the warranty valid"),
                _q(
                    "Next-business-day onsite service included",
                    "what service level does the warranty include",
                ),
                _q("Support hotline: extension 5512", "which extension is the support hotline"),
                "Keep this card with the asset register.",
            ),
            _u(
                _t("Incident log sheet"),
                "Site: building C, hall 2, row 14",
                _q("12 May: PSU 2 replaced after input voltage loss", "when was PSU 2 replaced"),
                _q("19 May: memory module DIMM B3 reseated", "which DIMM was reseated"),
                _q("27 May: firmware 2.14.1 installed on BMC", "which BMC firmware was installed"),
                "Signed by the duty engineer on each entry.",
            ),
        ),
    ),
    Source(
        "scan-access",
        "scanned",
        "datacenter_access_checklist.pdf",
        (
            _u(
                _t("Datacenter access checklist"),
                _q(
                    "Visitors sign in at the security desk and wear a red badge",
                    "what badge colour do visitors wear",
                ),
                _q(
                    "Escort required for every visitor inside the white space",
                    "do visitors need an escort in the white space",
                ),
                _q("No food or drinks beyond the second door", "can I bring drinks into the data hall"),
                _q("Tailgating through the mantrap is reported to security", "what happens on tailgating"),
                "Last update by facilities team.",
            ),
        ),
    ),
    Source(
        "slides-onboarding",
        "slides",
        "onboarding_deck.pptx",
        (
            _u(
                _t("Onboarding: your first week"),
                "Day 1: collect laptop and badge at the IT desk",
                _q("Day 2: shadow the on-call engineer for one shift", "who do new hires shadow on day 2"),
                _q("Day 3: complete the security awareness course", "when is the security awareness course"),
                "Day 5: meet your mentor for a first review",
            ),
            _u(
                _t("Security rules"),
                _q("Lock your screen whenever you leave your desk", "what to do when leaving the desk"),
                _q("Passwords need 14 characters and change every 180 days", "how long must passwords be"),
                _q(
                    "Report phishing mails with the Report button in Outlook",
                    "how do I report a phishing mail",
                ),
            ),
            _u(
                _t("On-call rotation"),
                _q("Rotation changes every Monday at 09:00", "when does the on-call rotation change"),
                _q("Acknowledge pages within 15 minutes", "how fast must a page be acknowledged"),
                "Escalate to the team lead after 45 minutes",
            ),
        ),
    ),
    Source(
        "slides-backup",
        "slides",
        "backup_policy_deck.pptx",
        (
            _u(
                _t("Backup policy"),
                _q("Full backup every Sunday at 01:00", "when does the full backup run"),
                _q("Incremental backups run nightly at 23:30", "what time do incremental backups run"),
                _q("Tapes rotate to the offsite vault each Friday", "when are tapes sent offsite"),
            ),
            _u(
                _t("Restore drill"),
                _q("Restore one production database every quarter", "how often is a restore drill done"),
                _q("Target restore time is four hours", "what is the target restore time"),
                "Record the drill result in the change log",
            ),
        ),
    ),
    Source(
        "video-ups",
        "video",
        "ups_battery_replacement_training.mp4",
        (
            _u(
                _t("Step 1: Prepare"),
                _q("Switch the UPS to bypass mode", "what mode must the UPS be in before battery work"),
                _q("Wear insulated gloves and eye protection", "what protection to wear for battery work"),
            ),
            _u(
                _t("Step 2: Remove old batteries"),
                _q("Disconnect the battery string breaker first", "which breaker is disconnected first"),
                _q("Lift each battery module with two people", "how many people lift a battery module"),
            ),
            _u(
                _t("Step 3: Install new batteries"),
                _q("Torque terminal bolts to 6 Nm", "torque for the battery terminal bolts"),
                _q("Check polarity before closing the breaker", "what to check before closing the breaker"),
            ),
            _u(
                _t("Step 4: Test"),
                _q("Run a self test and log the runtime estimate", "what to log after the UPS self test"),
                "Return the UPS to online mode",
            ),
        ),
    ),
    Source(
        "video-cabling",
        "video",
        "rack_cabling_training.mp4",
        (
            _u(
                _t("Cabling: plan"),
                _q("Label both ends of every cable", "where do cable labels go"),
                _q("Blue cables carry data, yellow cables carry management", "what are yellow cables for"),
            ),
            _u(
                _t("Cabling: power"),
                _q("Feed A from the left PDU, feed B from the right PDU", "which PDU feeds power supply B"),
                "Never daisy-chain power strips",
            ),
            _u(
                _t("Cabling: finish"),
                _q("Leave a service loop of 30 cm at the rear", "how long is the service loop"),
                _q("Fix bundles with velcro, not zip ties", "what to fix cable bundles with"),
            ),
        ),
    ),
)


def write_grounding_set(out_dir: Path, *, sources: Sequence[Source] = SOURCES) -> Path:
    """Write the set (or the given part of it) into `out_dir` (created) and return it; the same
    files on every call."""
    files = out_dir / "files"
    files.mkdir(parents=True, exist_ok=True)
    corpus: list[dict[str, str]] = []
    queries: list[dict[str, object]] = []
    qrels: list[tuple[str, str]] = []
    for source in sources:
        writer = _WRITERS[source.kind]
        placed = writer(files / source.file, source)
        corpus.append({"_id": source.id, "title": "", "text": "", "path": f"files/{source.file}"})
        for unit_no, lines in enumerate(placed, start=1):
            for line, box in lines:
                if not line.query:
                    continue
                qid = f"{source.kind}-{len(queries) + 1:02d}"
                region: dict[str, object] = {
                    "doc": source.id,
                    "box": [round(v, 5) for v in box],
                    "text": line.text,
                    "kind": source.kind,
                }
                if source.kind in ("pdf", "scanned"):
                    region["page"] = unit_no
                elif source.kind == "slides":
                    region["slide"] = unit_no
                else:
                    region["t"] = [(unit_no - 1) * SCENE_SECONDS, unit_no * SCENE_SECONDS]
                queries.append({"_id": qid, "text": line.query, "regions": [region]})
                qrels.append((qid, source.id))
    with (out_dir / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for row in corpus:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    with (out_dir / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for q in queries:
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")
    with (out_dir / "qrels.tsv").open("w", encoding="utf-8", newline="") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for qid, doc in qrels:
            fh.write(f"{qid}\t{doc}\t2\n")
    return out_dir


Placed = list[list[tuple[Line, Box]]]  # per unit: each line with its box

# ---------------------------------------------------------------------------- born-digital PDF

_PDF_SIZES = {"title": 17.0, "heading": 13.0, "body": 11.0}
_PDF_GAPS = {"title": 12.0, "heading": 9.0, "body": 7.0}  # mm from this baseline to the next
# Helvetica's ascender and descender (its AFM metrics), in units of the font size
_ASCENT, _DESCENT = 0.718, 0.207
_PT_MM = 25.4 / 72


def _write_pdf(path: Path, source: Source) -> Placed:
    from fpdf import FPDF

    from vlsearch.demo.writers import FIXED_TIME

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_producer("vlsearch grounding set")
    pdf.set_title(source.units[0].lines[0].text)
    pdf.set_auto_page_break(auto=False)
    placed: Placed = []
    for unit in source.units:
        pdf.add_page()
        y = 28.0
        boxes = []
        for line in unit.lines:
            size = _PDF_SIZES[line.style]
            pdf.set_font("Helvetica", "" if line.style == "body" else "B", size)
            x = 20.0
            pdf.text(x, y, line.text)
            width = pdf.get_string_width(line.text)
            size_mm = size * _PT_MM
            box = (x, y - _ASCENT * size_mm, x + width, y + _DESCENT * size_mm)
            boxes.append((line, (box[0] / pdf.w, box[1] / pdf.h, box[2] / pdf.w, box[3] / pdf.h)))
            y += _PDF_GAPS[line.style]
        placed.append(boxes)
    path.write_bytes(bytes(pdf.output()))
    return placed


# ---------------------------------------------------------------------------- drawn pages / slides


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _draw_lines(
    img: Image.Image,
    lines: Sequence[Line],
    *,
    left: int,
    top: int,
    sizes: dict[str, int],
    gaps: dict[str, int],
) -> list[tuple[Line, Box]]:
    """Draw the lines; each box spans the line's ink horizontally and the font's ascender to
    descender vertically (the line box, as for the PDF)."""
    draw = ImageDraw.Draw(img)
    out = []
    y = top
    for line in lines:
        font = _font(sizes[line.style])
        ascent, descent = font.getmetrics()  # type: ignore[union-attr]
        draw.text((left, y), line.text, fill=(25, 25, 30), font=font)
        ink = draw.textbbox((left, y), line.text, font=font)
        box = (ink[0], y, ink[2], y + ascent + descent)
        out.append((line, (box[0] / img.width, box[1] / img.height, box[2] / img.width, box[3] / img.height)))
        y += gaps[line.style]
    return out


def _scanned_page(unit: Unit, seed: int) -> tuple[Image.Image, list[tuple[Line, Box]]]:
    """An A4 page at 150 dpi as a scanner returns it: tinted paper, noise, a little blur."""
    img = Image.new("RGB", (1240, 1754), (246, 244, 236))
    boxes = _draw_lines(
        img,
        unit.lines,
        left=150,
        top=170,
        sizes={"title": 46, "heading": 36, "body": 30},
        gaps={"title": 110, "heading": 80, "body": 68},
    )
    rng = np.random.default_rng(seed)
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(0.7)), dtype=np.float32)
    arr += rng.normal(0.0, 6.0, arr.shape[:2])[..., None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), boxes


def _write_scanned(path: Path, source: Source) -> Placed:
    from fpdf import FPDF

    from vlsearch.demo.writers import FIXED_TIME

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_producer("vlsearch grounding set scanner")
    placed: Placed = []
    for k, unit in enumerate(source.units):
        page, boxes = _scanned_page(unit, seed=k + 1)
        buf = io.BytesIO()
        page.save(buf, format="JPEG", quality=85)
        pdf.add_page()
        pdf.image(io.BytesIO(buf.getvalue()), x=0, y=0, w=pdf.w, h=pdf.h)
        placed.append(boxes)
    path.write_bytes(bytes(pdf.output()))
    return placed


def _slide_image(
    unit: Unit, size: tuple[int, int] = (1280, 720)
) -> tuple[Image.Image, list[tuple[Line, Box]]]:
    img = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, size[0], int(size[1] * 0.2)), fill=(226, 234, 246))
    draw.rectangle((0, size[1] - 14, size[0], size[1]), fill=(37, 99, 235))
    scale = size[0] / 1280
    boxes = _draw_lines(
        img,
        unit.lines,
        left=int(70 * scale),
        top=int(44 * scale),
        sizes={"title": int(48 * scale), "heading": int(40 * scale), "body": int(34 * scale)},
        gaps={"title": int(150 * scale), "heading": int(90 * scale), "body": int(82 * scale)},
    )
    return img, boxes


def _write_slides(path: Path, source: Source) -> Placed:
    from pptx import Presentation
    from pptx.util import Emu

    from vlsearch.demo.writers import FIXED_TIME, normalise_zip

    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(12192000), Emu(6858000)  # 16:9
    props = prs.core_properties
    props.title = source.units[0].lines[0].text
    props.created = FIXED_TIME.replace(tzinfo=None)
    props.modified = FIXED_TIME.replace(tzinfo=None)
    placed: Placed = []
    for unit in source.units:
        img, boxes = _slide_image(unit)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank: the slide is its picture
        slide.shapes.add_picture(io.BytesIO(buf.getvalue()), 0, 0, prs.slide_width, prs.slide_height)
        placed.append(boxes)
    out = io.BytesIO()
    prs.save(out)
    path.write_bytes(normalise_zip(out.getvalue()))
    return placed


SCENE_SECONDS = 3.0
_VIDEO_FPS = 2


def _write_video(path: Path, source: Source) -> Placed:
    from vlsearch.demo.media import write_video

    scenes = [_slide_image(unit, size=(960, 540)) for unit in source.units]
    per_scene = round(SCENE_SECONDS * _VIDEO_FPS)
    write_video(
        path,
        lambda i: scenes[min(i // per_scene, len(scenes) - 1)][0],
        frames=per_scene * len(scenes),
        fps=_VIDEO_FPS,
    )
    return [boxes for _, boxes in scenes]


_WRITERS = {"pdf": _write_pdf, "scanned": _write_scanned, "slides": _write_slides, "video": _write_video}
