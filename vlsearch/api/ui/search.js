// Search page: text / image / video query, results with thumbnails and scores, model load panel.
"use strict";

let mode = "none";          // which media tab is active
let limits = { max_query_video_seconds: 120, default_top_k: 10 };
let videoTooLong = false;
let modelTimer = null;

function setMode(next) {
  mode = next;
  document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === next));
  document.getElementById("pane-image").hidden = next !== "image";
  document.getElementById("pane-video").hidden = next !== "video";
}

function wireDrop(zoneId, inputId, onFile) {
  const zone = document.getElementById(zoneId);
  const input = document.getElementById(inputId);
  input.addEventListener("change", () => { if (input.files[0]) onFile(input.files[0]); });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault(); zone.classList.remove("over");
    if (e.dataTransfer.files[0]) {
      const dt = new DataTransfer(); dt.items.add(e.dataTransfer.files[0]); input.files = dt.files;
      onFile(e.dataTransfer.files[0]);
    }
  });
}

function previewImage(file) {
  const box = document.getElementById("image-preview");
  box.replaceChildren(el("img", { src: URL.createObjectURL(file), alt: file.name }));
}

// The duration check happens here from the <video> element's metadata (the server checks again).
function checkVideo(file) {
  const box = document.getElementById("video-preview");
  const info = document.getElementById("video-info");
  const errBox = document.getElementById("form-error");
  const video = el("video", { src: URL.createObjectURL(file), controls: true, muted: true, preload: "metadata" });
  box.replaceChildren(video);
  videoTooLong = false;
  info.textContent = "";
  showError(errBox, null);
  video.addEventListener("loadedmetadata", () => {
    const d = video.duration;
    info.textContent = t("duration") + ": " + (isFinite(d) ? d.toFixed(1) + " s" : "?");
    info.dataset.duration = isFinite(d) ? String(d) : "";
    if (isFinite(d) && d > limits.max_query_video_seconds) {
      videoTooLong = true;
      showError(errBox, { message: t("videoTooLong", { d: d.toFixed(1), m: limits.max_query_video_seconds }) });
    }
  });
  video.addEventListener("error", () => { info.textContent = t("videoUnreadable"); });
}

async function runSearch(ev) {
  ev.preventDefault();
  const errBox = document.getElementById("form-error");
  showError(errBox, null);
  const text = document.getElementById("q-text").value.trim();
  const image = mode === "image" ? document.getElementById("q-image").files[0] : null;
  const video = mode === "video" ? document.getElementById("q-video").files[0] : null;
  if (video && videoTooLong) {
    showError(errBox, { message: t("videoTooLong", { d: document.getElementById("video-info").dataset.duration, m: limits.max_query_video_seconds }) });
    return;
  }
  if (!text && !image && !video) { showError(errBox, { message: t("startHint") }); return; }
  const topK = parseInt(document.getElementById("q-topk").value, 10) || limits.default_top_k;
  const rerank = document.getElementById("q-rerank").checked;
  const instruction = document.getElementById("q-instruction").value.trim();
  const btn = document.getElementById("search-btn");
  btn.disabled = true; btn.textContent = t("searching");
  try {
    let result;
    if (image || video) {
      const form = new FormData();
      form.append("text", text);
      if (image) form.append("image", image);
      if (video) form.append("video", video);
      form.append("top_k", String(topK));
      form.append("rerank", String(rerank));
      if (instruction) form.append("instruction", instruction);
      result = await api("/v1/search/upload", { method: "POST", body: form });
    } else {
      const body = { text, top_k: topK, rerank };
      if (instruction) body.instruction = instruction;
      result = await api("/v1/search", { method: "POST", json: body });
    }
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
  if (!result.results.length) { list.replaceChildren(el("p", { class: "empty", text: t("noResults") })); return; }
  list.replaceChildren(...result.results.map(renderHit));
}

function renderHit(hit) {
  const thumb = el("div", { class: "thumb" + (hit.modality === "frame" ? " playable" : ""), title: hit.modality === "frame" ? t("play") : null });
  if (hit.thumbnail_url) {
    const img = el("img", { alt: hit.document.name, loading: "lazy" });
    mediaUrl(hit.thumbnail_url).then((u) => { img.src = u; }).catch(() => { thumb.textContent = hit.modality; });
    thumb.append(img);
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
  if (hit.media_url && hit.modality !== "frame") {
    const link = el("a", { href: "#", text: t("openOriginal"), class: "hint" });
    link.addEventListener("click", async (e) => { e.preventDefault(); window.open(await mediaUrl(hit.media_url), "_blank"); });
    title.append(link);
  }
  const scores = el("div", { class: "scores" },
    el("span", {}, t("retrieval") + " ", el("b", { class: "retrieval-score", text: fmtScore(hit.retrieval_score) })),
    el("span", {}, t("rerankScore") + " ", el("b", { class: "rerank-score", text: fmtScore(hit.rerank_score) })),
    hit.found_by.length ? el("span", { text: hit.found_by.join(" + ") }) : null,
  );
  body.append(title, el("div", { class: "snippet", text: hit.snippet }), scores);
  if (hit.modality === "frame" && hit.media_url) {
    thumb.addEventListener("click", () => playFrom(hit, body));
  }
  return el("article", { class: "hit", "data-item-id": hit.id, "data-modality": hit.modality }, thumb, body);
}

// Play the source video from the keyframe's moment: /v1/media/{id}?kind=original#t=<seconds>.
async function playFrom(hit, body) {
  const start = hit.t_start || 0;
  let video = body.querySelector("video");
  if (!video) { video = el("video", { controls: true, autoplay: true, muted: true, playsinline: true }); body.append(video); }
  const url = hit.media_url + "#t=" + start.toFixed(2);
  video.dataset.mediaUrl = url;  // the API URL; src may be a blob: URL of it when a key is needed
  video.dataset.start = String(start);
  video.src = await mediaUrl(url);
  video.addEventListener("loadedmetadata", () => {
    if (Math.abs(video.currentTime - start) > 0.5) video.currentTime = start;
    video.play().catch(() => {});
  }, { once: true });
}

// ---- models panel -----------------------------------------------------------------------
async function refreshModels() {
  const box = document.getElementById("models");
  const errBox = document.getElementById("models-error");
  let data;
  try { data = await api("/v1/models"); showError(errBox, null); } catch (err) { showError(errBox, err); return; }
  box.replaceChildren(...data.models.map(renderModel));
  const busy = data.models.some((m) => m.state === "loading");
  clearTimeout(modelTimer);
  modelTimer = setTimeout(refreshModels, busy ? 700 : 5000);
}

function renderModel(m) {
  const label = { unloaded: t("loadModel"), loading: t("loading"), ready: t("modelReady"), failed: t("retry") }[m.state] || m.state;
  const btn = el("button", { class: "model-btn " + m.state, "data-model": m.name, "data-state": m.state, disabled: m.state === "loading" || m.state === "ready" });
  if (m.state === "loading") btn.append(el("span", { class: "spinner" }), " ");
  btn.append(label);
  btn.addEventListener("click", () => loadModel(m.name, btn));
  const unload = m.state === "ready" ? el("button", { class: "unload-btn", "data-model": m.name, text: t("unload"), onclick: () => unloadModel(m.name) }) : null;
  return el("div", { class: "model", "data-model": m.name },
    el("div", { class: "meta" },
      el("div", {}, el("b", { text: m.name }), " ", el("span", { class: "badge " + m.state, "data-state": m.state, text: m.state })),
      el("div", { class: "id", title: m.model_id, text: m.model_id + " · " + m.device + (m.error ? " · " + m.error : "") })),
    btn, unload);
}

async function loadModel(name, btn) {
  btn.disabled = true;
  btn.className = "model-btn loading"; btn.dataset.state = "loading";
  btn.replaceChildren(el("span", { class: "spinner" }), " " + t("loading"));
  try { await api("/v1/models/" + encodeURIComponent(name) + "/load", { method: "POST" }); }
  catch (err) { showError(document.getElementById("models-error"), err); }
  refreshModels();
}

async function unloadModel(name) {
  try { await api("/v1/models/" + encodeURIComponent(name) + "/unload", { method: "POST" }); }
  catch (err) { showError(document.getElementById("models-error"), err); }
  refreshModels();
}

async function init() {
  renderHeader("search");
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => setMode(b.dataset.tab)));
  wireDrop("drop-image", "q-image", previewImage);
  wireDrop("drop-video", "q-video", checkVideo);
  document.getElementById("search-form").addEventListener("submit", runSearch);
  document.addEventListener("vlsearch:key", refreshModels);
  try { limits = await api("/v1/limits"); document.getElementById("q-topk").value = limits.default_top_k; } catch (e) { /* defaults stay */ }
  refreshModels();
}

init();
