// Evidence on result cards and in the viewer: the hit's lines that match the query, boxed on its
// page, figure or video frame (hit.highlights: boxes in [0, 1] of the hit's media), and the query's
// words marked in its snippet (hit.snippet_highlights). Boxes are absolutely positioned divs placed
// from JS (element.style), which the page's Content-Security-Policy allows.
"use strict";

// Boxes as percentages of their frame, best first; the best one is drawn in a stronger colour.
function boxLayer(highlights, { numbered = false } = {}) {
  const layer = el("div", { class: "boxes" });
  highlights.forEach((h, i) => {
    const [x0, y0, x1, y1] = h.box;
    const box = el("div", { class: "box" + (i === 0 ? " best" : ""), "data-rank": i + 1, title: h.text });
    box.style.left = (x0 * 100).toFixed(3) + "%";
    box.style.top = (y0 * 100).toFixed(3) + "%";
    box.style.width = ((x1 - x0) * 100).toFixed(3) + "%";
    box.style.height = ((y1 - y0) * 100).toFixed(3) + "%";
    if (numbered) box.append(el("span", { class: "box-label", text: String(i + 1) }));
    layer.append(box);
  });
  return layer;
}

// The card's thumbnail with its boxes. The image keeps its aspect inside the fixed thumbnail
// area: a landscape frame or figure is shown whole; a portrait page is magnified (its lines would
// be a pixel tall) and moved so the best box sits in the middle.
const PAGE_ZOOM = 1.7;

function evidenceThumb(hit, thumb) {
  const img = el("img", { alt: hit.document.name, loading: "lazy" });
  const frame = el("div", { class: "ev-frame" }, img, boxLayer(hit.highlights));
  thumb.classList.add("has-boxes");
  thumb.append(frame);
  img.addEventListener("load", () => {
    const width = thumb.clientWidth;
    const height = thumb.clientHeight;
    const aspect = img.naturalHeight / Math.max(1, img.naturalWidth);
    const frameWidth = width * (aspect > 1 ? PAGE_ZOOM : 1);
    const frameHeight = frameWidth * aspect;
    const [x0, y0, x1, y1] = hit.highlights[0].box;
    const centre = (lo, hi, size, view) => Math.min(0, Math.max(view - size, view / 2 - (lo + hi) / 2 * size));
    // a line wider than the thumbnail shows from its start; a narrower box is centred
    const wide = (x1 - x0) * frameWidth > width;
    const left = frameWidth <= width ? 0
      : wide ? Math.min(0, Math.max(width - frameWidth, 4 - x0 * frameWidth)) : centre(x0, x1, frameWidth, width);
    const top = frameHeight > height ? centre(y0, y1, frameHeight, height) : (height - frameHeight) / 2;
    frame.style.width = frameWidth.toFixed(1) + "px";
    frame.style.left = left.toFixed(1) + "px";
    frame.style.top = top.toFixed(1) + "px";
    frame.dataset.placed = "1";
  }, { once: true });
  return img;
}

// The snippet with the query's words in <mark>, built from text nodes (never innerHTML).
function snippetNode(hit) {
  const box = el("div", { class: "snippet" });
  const text = hit.snippet || "";
  let at = 0;
  for (const span of hit.snippet_highlights || []) {
    if (span.start < at || span.end > text.length || span.end <= span.start) continue;
    if (span.start > at) box.append(text.slice(at, span.start));
    box.append(el("mark", { text: text.slice(span.start, span.end) }));
    at = span.end;
  }
  if (at < text.length) box.append(text.slice(at));
  return box;
}

function viewerDialog() {
  let dialog = document.getElementById("viewer");
  if (!dialog) {
    dialog = el("dialog", { id: "viewer", class: "viewer", "aria-label": t("viewer") });
    // a click on the backdrop (the dialog element itself, outside its content) closes it
    dialog.addEventListener("click", (e) => { if (e.target === dialog) dialog.close(); });
    dialog.addEventListener("close", () => {
      const video = dialog.querySelector("video");
      if (video) video.pause();
      dialog.replaceChildren();
    });
    document.body.append(dialog);
  }
  return dialog;
}

// The full page / figure / frame with the hit's boxes drawn; a video frame plays from t_start.
async function openViewer(hit) {
  const dialog = viewerDialog();
  const isFrame = hit.modality === "frame";
  const stage = el("div", { class: "viewer-stage" });
  const frame = el("div", { class: "ev-frame viewer-frame" });
  const layer = boxLayer(hit.highlights || [], { numbered: true });
  if (isFrame) {
    const start = hit.t_start || 0;
    const end = (hit.locator && hit.locator.t_end) || start + 1;
    const url = hit.media_url + "#t=" + start.toFixed(2);
    const video = el("video", { controls: true, autoplay: true, muted: true, playsinline: true, preload: "auto" });
    video.dataset.mediaUrl = url;  // the API URL; src may be a blob: URL of it when a key is needed
    video.dataset.start = String(start);
    if (hit.thumbnail_url) mediaUrl(hit.thumbnail_url).then((u) => { video.poster = u; }).catch(() => {});
    // the boxes belong to the keyframe's moment: shown while the video is there
    const sync = () => { layer.hidden = video.currentTime < start - 0.3 || video.currentTime > end + 0.3; };
    video.addEventListener("timeupdate", sync);
    video.addEventListener("seeked", sync);
    video.addEventListener("loadedmetadata", () => {
      if (Math.abs(video.currentTime - start) > 0.5) video.currentTime = start;
      video.play().catch(() => {});
    }, { once: true });
    frame.append(video, layer);
    stage.append(frame);
    video.src = await mediaUrl(url);
  } else {
    const img = el("img", { alt: hit.document.name });
    frame.append(img, layer);
    stage.append(frame);
    img.src = await mediaUrl(hit.media_url);
  }
  const lines = el("ol", { class: "viewer-lines" }, ...(hit.highlights || []).map((h, i) =>
    el("li", { "data-rank": i + 1 },
      el("span", { class: "line-text", text: h.text }),
      el("span", { class: "line-score", text: fmtScore(h.score) }))));
  const side = el("div", { class: "viewer-side" },
    el("div", { class: "viewer-title" },
      el("b", { text: hit.document.name }),
      hit.locator_label ? el("span", { class: "where", text: hit.locator_label }) : null),
    (hit.highlights || []).length ? el("h3", { text: t("evidenceLines") }) : el("p", { class: "hint", text: t("noEvidence") }),
    lines,
    isFrame && (hit.highlights || []).length ? el("p", { class: "hint", text: t("boxesAtMoment") }) : null,
    snippetNode(hit));
  const close = el("button", { type: "button", class: "viewer-close", "aria-label": t("close"), title: t("close"), text: "×",
    onclick: () => dialog.close() });
  dialog.replaceChildren(close, el("div", { class: "viewer-body" }, stage, side));
  if (!dialog.open) dialog.showModal();
}
