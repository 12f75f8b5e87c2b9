// Rerank workbench: a query (text, a photo, a video, any combination) and candidates of your own
// (text, images, videos, or a search's results), scored by the reranker; results re-ordered with
// thumbnails (a frame strip for videos), a 0–1 score bar and the time taken.
"use strict";

// The seed article's Chinese enterprise-IT instruction (section 5.3), offered as a one-click example.
const ZH_IT_INSTRUCTION = "请作为企业IT知识库专家,根据用户查询,从技术文档中找出最匹配的操作指南、故障排查步骤或配置说明。";
const DEFAULT_INSTRUCTION = "Given a search query, retrieve relevant candidates that answer the query.";
const STRIP_FRAMES = 4;

let limits = { max_query_video_seconds: 120 };
let queryPhoto = null;      // File
let queryVideo = null;      // { file, duration, tooLong }
let nextId = 1;
const candidates = [];      // { id, kind: text|image|video|item, text, file?, url?, frames?, duration?, tooLong?, item? }

// ---- query ---------------------------------------------------------------------------------
function setQueryPhoto(files) {
  const file = files.find((f) => f.type.startsWith("image/"));
  if (!file) return;
  queryPhoto = file;
  const box = document.getElementById("rq-photo-preview");
  box.replaceChildren(el("img", { src: URL.createObjectURL(file), alt: file.name }),
    el("button", { type: "button", class: "remove", title: t("remove"), text: "×",
      onclick: () => { queryPhoto = null; box.replaceChildren(); } }));
}

async function setQueryVideo(files) {
  const file = files.find((f) => f.type.startsWith("video/"));
  if (!file) return;
  const box = document.getElementById("rq-video-preview");
  const info = document.getElementById("rq-video-info");
  const errBox = document.getElementById("rq-error");
  showError(errBox, null);
  const probe = await probeVideo(file);
  queryVideo = { file, duration: probe.duration, tooLong: tooLong(probe.duration) };
  box.replaceChildren(probe.video, el("button", { type: "button", class: "remove", title: t("remove"), text: "×",
    onclick: () => { queryVideo = null; box.replaceChildren(); info.textContent = ""; showError(errBox, null); } }));
  info.textContent = probe.duration === null ? t("videoUnreadable") : t("duration") + ": " + probe.duration.toFixed(1) + " s";
  if (queryVideo.tooLong) showError(errBox, { message: tooLongMessage(probe.duration) });
}

function tooLong(duration) { return duration !== null && duration > limits.max_query_video_seconds; }
function tooLongMessage(duration) {
  return t("videoTooLong", { d: duration.toFixed(1), m: fmtLimit(limits.max_query_video_seconds) });
}

// ---- candidates ----------------------------------------------------------------------------
function addCandidate(cand) {
  cand.id = nextId++;
  candidates.push(cand);
  renderCandidates();
  return cand;
}

async function addFiles(files) {
  const errBox = document.getElementById("rr-error");
  showError(errBox, null);
  for (const file of files) {
    if (file.type.startsWith("image/")) {
      addCandidate({ kind: "image", file, text: "", url: URL.createObjectURL(file) });
    } else if (file.type.startsWith("video/")) {
      const probe = await probeVideo(file);
      const cand = addCandidate({ kind: "video", file, text: "", duration: probe.duration, tooLong: tooLong(probe.duration) });
      if (cand.tooLong) {
        showError(errBox, { message: tooLongMessage(probe.duration) + " (" + file.name + ")" });
      }
      videoFrames(file, STRIP_FRAMES).then((frames) => { cand.frames = frames; renderCandidates(); }).catch(() => {});
    }
  }
}

function removeCandidate(id) {
  const i = candidates.findIndex((c) => c.id === id);
  if (i >= 0) candidates.splice(i, 1);
  renderCandidates();
}

function candidateVisual(cand) {
  if (cand.kind === "image") return el("img", { src: cand.url, alt: cand.file.name });
  if (cand.kind === "video") return frameStrip(cand.frames, cand.file.name);
  if (cand.kind === "item") {
    if (!cand.item.thumbnailUrl) return el("span", { class: "placeholder", text: t("kind_text") });
    const img = el("img", { alt: cand.item.name });
    mediaUrl(cand.item.thumbnailUrl).then((u) => { img.src = u; }).catch(() => {});
    return img;
  }
  return el("span", { class: "placeholder", text: t("kind_text") });
}

function frameStrip(frames, name) {
  if (!frames || !frames.length) return el("span", { class: "placeholder", text: t("kind_video") });
  return el("div", { class: "strip", title: name }, ...frames.map((src) => el("img", { src, alt: "" })));
}

function renderCandidates() {
  const list = document.getElementById("candidates");
  document.getElementById("cand-count").textContent = candidates.length ? "(" + candidates.length + ")" : "";
  list.replaceChildren(...candidates.map((cand, i) => {
    const head = el("div", { class: "cand-head" },
      el("span", { class: "rank", text: "#" + (i + 1) }),
      el("span", { class: "badge kind-" + cand.kind, text: t("kind_" + cand.kind) }),
      cand.file ? el("span", { class: "hint", text: cand.file.name + (cand.duration ? " · " + cand.duration.toFixed(1) + " s" : "") }) : null,
      cand.item ? el("span", { class: "hint", text: cand.item.name + (cand.item.where ? " · " + cand.item.where : "") + " · " + t("fromSearch") }) : null,
      el("span", { class: "spacer" }),
      el("button", { type: "button", class: "remove", title: t("remove"), text: "×", onclick: () => removeCandidate(cand.id) }));
    const body = el("div", { class: "cand-body" });
    if (cand.kind !== "text") body.append(el("div", { class: "cand-visual" }, candidateVisual(cand)));
    if (cand.kind === "item") {
      body.append(el("div", { class: "snippet", text: cand.item.snippet }));
    } else {
      const area = el("textarea", { class: "cand-text", rows: cand.kind === "text" ? 3 : 2,
        placeholder: t(cand.kind === "text" ? "candidateText" : "optionalText") });
      area.value = cand.text;
      area.addEventListener("input", () => { cand.text = area.value; });
      body.append(area);
    }
    return el("li", { class: "cand" + (cand.tooLong ? " too-long" : ""), "data-kind": cand.kind, "data-id": cand.id }, head, body);
  }));
}

// ---- rerank --------------------------------------------------------------------------------
function extension(name, fallback) {
  const m = /\.[A-Za-z0-9]{1,5}$/.exec(name || "");
  return m ? m[0].toLowerCase() : fallback;
}

function buildRequest() {
  const files = [];
  const upload = (label, file, fallback) => {
    const name = label + extension(file.name, fallback);
    files.push([name, file]);
    return "upload:" + name;
  };
  const query = {};
  const text = document.getElementById("rq-text").value.trim();
  if (text) query.text = text;
  if (queryPhoto) query.image = upload("query-photo", queryPhoto, ".jpg");
  if (queryVideo) query.video = upload("query-video", queryVideo.file, ".mp4");
  const documents = candidates.map((cand, i) => {
    const doc = {};
    const candText = (cand.text || "").trim();
    if (cand.kind === "item") doc.item_id = cand.item.itemId;
    if (cand.kind === "image") doc.image = upload("candidate-" + i, cand.file, ".jpg");
    if (cand.kind === "video") doc.video = upload("candidate-" + i, cand.file, ".mp4");
    if (candText) doc.text = candText;
    return doc;
  });
  const payload = { query, documents, return_documents: false };
  const instruction = document.getElementById("rq-instruction").value.trim();
  if (instruction) payload.instruction = instruction;
  const fps = parseFloat(document.getElementById("rq-fps").value);
  if (fps > 0) payload.fps = fps;
  const maxFrames = parseInt(document.getElementById("rq-max-frames").value, 10);
  if (maxFrames >= 2) payload.max_frames = maxFrames;
  return { payload, files };
}

function validate() {
  const text = document.getElementById("rq-text").value.trim();
  if (!text && !queryPhoto && !queryVideo) return t("needQuery");
  if (queryVideo && queryVideo.tooLong) return tooLongMessage(queryVideo.duration);
  if (!candidates.length) return t("needCandidates");
  for (const [i, cand] of candidates.entries()) {
    if (cand.kind === "text" && !(cand.text || "").trim()) return t("emptyCandidate", { i: i + 1 });
    if (cand.tooLong) return tooLongMessage(cand.duration) + " (#" + (i + 1) + ")";
  }
  return "";
}

async function runRerank() {
  const errBox = document.getElementById("rr-error");
  showError(errBox, null);
  const problem = validate();
  if (problem) { showError(errBox, { message: problem }); return; }
  const { payload, files } = buildRequest();
  const snapshot = candidates.slice();
  const btn = document.getElementById("rerank-btn");
  btn.disabled = true; btn.textContent = t("reranking");
  const started = performance.now();
  try {
    let result;
    if (files.length) {
      const form = new FormData();
      form.append("payload", JSON.stringify(payload));
      for (const [name, file] of files) form.append("files", file, name);
      result = await api("/v1/rerank/upload", { method: "POST", body: form });
    } else {
      result = await api("/v1/rerank", { method: "POST", json: payload });
    }
    renderResults(result, snapshot, performance.now() - started);
  } catch (err) {
    showError(errBox, err);
  } finally {
    btn.disabled = false; btn.textContent = t("doRerank");
  }
}

function renderResults(result, snapshot, elapsedMs) {
  const box = document.getElementById("rr-results");
  const summary = document.getElementById("rr-summary");
  summary.textContent = t("rrSummary", {
    n: result.results.length, ms: Math.round(elapsedMs), server: Math.round(result.timings_ms.total || 0),
  }) + " · " + result.model;
  summary.dataset.ms = String(Math.round(elapsedMs));
  box.replaceChildren(...result.results.map((r, rank) => {
    const cand = snapshot[r.index];
    const score = r.relevance_score;
    const bar = el("div", { class: "bar" }, el("div", { class: "fill" }));
    bar.firstElementChild.style.width = (Math.max(0, Math.min(1, score)) * 100).toFixed(1) + "%";
    const label = cand.kind === "item" ? cand.item.name : cand.file ? cand.file.name : "";
    const snippet = cand.kind === "item" ? cand.item.snippet : (cand.text || "");
    return el("article", { class: "hit rr-hit", "data-index": r.index, "data-kind": cand.kind, "data-score": String(score) },
      el("div", { class: "thumb" + (cand.kind === "video" ? " strip-thumb" : "") }, candidateVisual(cand)),
      el("div", { class: "body" },
        el("div", { class: "title" },
          el("span", { class: "rank", text: "#" + (rank + 1) }),
          el("span", { class: "doc-name", text: label || t("candidateN", { i: r.index + 1 }) }),
          el("span", { class: "badge kind-" + cand.kind, text: t("kind_" + cand.kind) }),
          el("span", { class: "hint was", text: t("wasN", { i: r.index + 1 }) })),
        snippet ? el("div", { class: "snippet", text: snippet }) : null,
        el("div", { class: "score-row" },
          el("span", { class: "hint", text: t("score") }),
          el("b", { class: "score-value", text: score.toFixed(3) }),
          bar)));
  }));
}

// ---- hand-off from the search page ("Rerank these") -----------------------------------------
async function takeHandoff() {
  const raw = sessionStorage.getItem(HANDOFF_STORE);
  if (!raw) return;
  sessionStorage.removeItem(HANDOFF_STORE);
  let handoff;
  try { handoff = JSON.parse(raw); } catch (e) { return; }
  if (handoff.query) document.getElementById("rq-text").value = handoff.query;
  if (handoff.photo) {
    const blob = await (await fetch(handoff.photo.dataUrl)).blob();
    setQueryPhoto([new File([blob], handoff.photo.name, { type: blob.type })]);
  }
  for (const item of handoff.candidates || []) addCandidate({ kind: "item", text: "", item });
}

function init() {
  renderHeader("rerank");
  wireDropZone(document.getElementById("rq-photo-drop"), document.getElementById("rq-photo"), setQueryPhoto);
  wireDropZone(document.getElementById("rq-video-drop"), document.getElementById("rq-video"), setQueryVideo);
  wireDropZone(document.getElementById("cand-drop"), document.getElementById("cand-drop-input"), addFiles);
  const imageInput = document.getElementById("cand-image-input");
  const videoInput = document.getElementById("cand-video-input");
  imageInput.addEventListener("change", () => { addFiles(Array.from(imageInput.files)); imageInput.value = ""; });
  videoInput.addEventListener("change", () => { addFiles(Array.from(videoInput.files)); videoInput.value = ""; });
  document.getElementById("add-text").addEventListener("click", () => {
    addCandidate({ kind: "text", text: "" });
    const areas = document.querySelectorAll("#candidates .cand-text");
    if (areas.length) areas[areas.length - 1].focus();
  });
  document.getElementById("add-image").addEventListener("click", () => imageInput.click());
  document.getElementById("add-video").addEventListener("click", () => videoInput.click());
  document.getElementById("use-zh-instruction").addEventListener("click", () => {
    document.getElementById("rq-instruction").value = ZH_IT_INSTRUCTION;
  });
  document.getElementById("use-default-instruction").addEventListener("click", () => {
    document.getElementById("rq-instruction").value = DEFAULT_INSTRUCTION;
  });
  document.getElementById("rerank-btn").addEventListener("click", runRerank);
  document.addEventListener("vlsearch:key", refreshModels);
  api("/v1/limits").then((l) => {
    limits = Object.assign(limits, l);
  }).catch(() => {});
  document.getElementById("rq-instruction").placeholder = DEFAULT_INSTRUCTION;
  refreshModels();
  takeHandoff();
  renderCandidates();
}

init();
