// Search page: text, photos and a video in one query; results with thumbnails and scores; model panel;
// "Rerank these" hands the results to the rerank workbench.
"use strict";

let limits = { max_query_video_seconds: 120, max_query_images: 4, default_top_k: 10 };
const queryPhotos = [];     // File objects, in the order they were added
let queryVideo = null;      // { file, duration, tooLong }
let lastHits = [];
let lastQueryText = "";

function renderPhotos() {
  const box = document.getElementById("image-preview");
  box.replaceChildren(...queryPhotos.map((file, i) => el("figure", { class: "thumb-item", "data-index": i },
    el("img", { src: URL.createObjectURL(file), alt: file.name }),
    el("button", { type: "button", class: "remove", title: t("remove"), "aria-label": t("remove"), text: "×",
      onclick: () => { queryPhotos.splice(i, 1); renderPhotos(); } }))));
}

function addPhotos(files) {
  const errBox = document.getElementById("form-error");
  showError(errBox, null);
  for (const file of files) {
    if (!file.type.startsWith("image/")) continue;
    if (queryPhotos.length >= limits.max_query_images) {
      showError(errBox, { message: t("dropPhotos", { n: limits.max_query_images }) });
      break;
    }
    queryPhotos.push(file);
  }
  renderPhotos();
}

// The duration check happens here from the <video> element's metadata (the server checks again).
async function setVideo(files) {
  const file = files.find((f) => f.type.startsWith("video/")) || files[0];
  if (!file) return;
  const box = document.getElementById("video-preview");
  const info = document.getElementById("video-info");
  const errBox = document.getElementById("form-error");
  showError(errBox, null);
  info.textContent = "";
  const probe = await probeVideo(file);
  queryVideo = { file, duration: probe.duration, tooLong: false };
  box.replaceChildren(probe.video, el("button", { type: "button", class: "remove", title: t("remove"), text: "×",
    onclick: () => { queryVideo = null; box.replaceChildren(); info.textContent = ""; info.dataset.duration = ""; showError(errBox, null); } }));
  if (probe.duration === null) { info.textContent = t("videoUnreadable"); return; }
  info.textContent = t("duration") + ": " + probe.duration.toFixed(1) + " s";
  info.dataset.duration = String(probe.duration);
  if (probe.duration > limits.max_query_video_seconds) {
    queryVideo.tooLong = true;
    showError(errBox, { message: t("videoTooLong", { d: probe.duration.toFixed(1), m: fmtLimit(limits.max_query_video_seconds) }) });
  }
}

async function runSearch(ev) {
  ev.preventDefault();
  const errBox = document.getElementById("form-error");
  showError(errBox, null);
  const text = document.getElementById("q-text").value.trim();
  if (queryVideo && queryVideo.tooLong) {
    showError(errBox, { message: t("videoTooLong", { d: queryVideo.duration.toFixed(1), m: fmtLimit(limits.max_query_video_seconds) }) });
    return;
  }
  if (!text && !queryPhotos.length && !queryVideo) { showError(errBox, { message: t("startHint") }); return; }
  const topK = parseInt(document.getElementById("q-topk").value, 10) || limits.default_top_k;
  const rerank = document.getElementById("q-rerank").checked;
  const instruction = document.getElementById("q-instruction").value.trim();
  const btn = document.getElementById("search-btn");
  btn.disabled = true; btn.textContent = t("searching");
  try {
    let result;
    if (queryPhotos.length || queryVideo) {
      // every part goes in one request: the server reads each photo and the video and searches with all
      const form = new FormData();
      form.append("text", text);
      for (const photo of queryPhotos) form.append("image", photo, photo.name);
      if (queryVideo) form.append("video", queryVideo.file, queryVideo.file.name);
      form.append("top_k", String(topK));
      form.append("rerank", String(rerank));
      if (instruction) form.append("instruction", instruction);
      result = await api("/v1/search/upload", { method: "POST", body: form });
    } else {
      const body = { text, top_k: topK, rerank };
      if (instruction) body.instruction = instruction;
      result = await api("/v1/search", { method: "POST", json: body });
    }
    lastQueryText = text;
    renderResults(result);
  } catch (err) {
    showError(errBox, err);
  } finally {
    btn.disabled = false; btn.textContent = t("doSearch");
  }
}

function renderResults(result) {
  const list = document.getElementById("results");
  const summary = document.getElementById("summary");
  const degraded = document.getElementById("degraded");
  summary.textContent = result.results.length + " / " + result.total_candidates + " " + t("candidates") + " · " +
    (result.reranked ? t("reranked") : t("notReranked")) + " · " + Math.round(result.timings_ms.total || 0) + " ms";
  degraded.hidden = !result.degraded;
  degraded.textContent = result.degraded || "";
  lastHits = result.results;
  document.getElementById("rerank-these-row").hidden = !lastHits.length;
  if (!result.results.length) { list.replaceChildren(el("p", { class: "empty", text: t("noResults") })); return; }
  list.replaceChildren(...result.results.map(renderHit));
}

function renderHit(hit) {
  const frameHit = hit.modality === "frame";
  const viewable = !!hit.thumbnail_url && !!hit.media_url;
  const thumb = el("div", { class: "thumb" + (frameHit ? " playable" : "") + (viewable ? " viewable" : ""),
    title: viewable ? (frameHit ? t("play") : t("viewEvidence")) : null });
  if (hit.thumbnail_url) {
    const highlights = hit.highlights || [];
    const img = highlights.length ? evidenceThumb(hit, thumb) : el("img", { alt: hit.document.name, loading: "lazy" });
    if (!highlights.length) thumb.append(img);
    mediaUrl(hit.thumbnail_url).then((u) => { img.src = u; }).catch(() => { thumb.textContent = hit.modality; });
  } else {
    thumb.textContent = (hit.document.doc_type || hit.modality).toUpperCase();
  }
  const body = el("div", { class: "body" });
  const where = hit.locator_label || "";
  const title = el("div", { class: "title" },
    el("span", { class: "rank", text: "#" + hit.rank }),
    el("span", { class: "doc-name", text: hit.document.name }),
    where ? el("span", { class: "where", text: where }) : null,
    el("span", { class: "badge", text: hit.modality }),
  );
  if ((hit.original_url || hit.media_url) && !frameHit) {
    // the document's original (a PDF at the hit's page) through a signed link, else the stored image
    const link = el("a", { href: "#", text: t("openOriginal"), class: "hint open-original" });
    link.addEventListener("click", (e) => { e.preventDefault(); openHitMedia(hit).catch((err) => showError(document.getElementById("form-error"), err)); });
    title.append(link);
  }
  const scores = el("div", { class: "scores" },
    el("span", {}, t("retrieval") + " ", el("b", { class: "retrieval-score", text: fmtScore(hit.retrieval_score) })),
    el("span", {}, t("rerankScore") + " ", el("b", { class: "rerank-score", text: fmtScore(hit.rerank_score) })),
    hit.found_by.length ? el("span", { text: hit.found_by.join(" + ") }) : null,
  );
  body.append(title, snippetNode(hit), scores);
  if (viewable) {
    thumb.addEventListener("click", () => openViewer(hit).catch((err) => showError(document.getElementById("form-error"), err)));
  }
  return el("article", { class: "hit", "data-item-id": hit.id, "data-modality": hit.modality,
    "data-boxes": String((hit.highlights || []).length) }, thumb, body);
}

// The workbench takes the hits as candidates (ingested items, by id) and the query's text and photo.
async function rerankThese() {
  const handoff = {
    query: lastQueryText,
    candidates: lastHits.map((h) => ({
      itemId: h.id, name: h.document.name, snippet: h.snippet, thumbnailUrl: h.thumbnail_url,
      modality: h.modality, where: h.locator_label,
    })),
  };
  if (queryPhotos.length && queryPhotos[0].size < 3 * 1024 * 1024) {
    handoff.photo = { name: queryPhotos[0].name, dataUrl: await new Promise((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.readAsDataURL(queryPhotos[0]);
    }) };
  }
  sessionStorage.setItem(HANDOFF_STORE, JSON.stringify(handoff));
  location.href = "/rerank";
}

async function init() {
  renderHeader("search");
  wireDropZone(document.getElementById("drop-image"), document.getElementById("q-image"), addPhotos);
  wireDropZone(document.getElementById("drop-video"), document.getElementById("q-video"), setVideo);
  document.getElementById("search-form").addEventListener("submit", runSearch);
  document.getElementById("rerank-these").addEventListener("click", rerankThese);
  document.addEventListener("vlsearch:key", refreshModels);
  try {
    limits = Object.assign(limits, await api("/v1/limits"));
    document.getElementById("q-topk").value = limits.default_top_k;
  } catch (e) { /* defaults stay */ }
  document.getElementById("drop-image-label").textContent = t("dropPhotos", { n: limits.max_query_images });
  refreshModels();
}

init();
