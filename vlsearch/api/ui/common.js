// Shared by every page: API key (localStorage → X-API-Key header), fetch with the error envelope,
// English / 中文 labels, media URLs that carry the key.
"use strict";

const KEY_STORE = "vlsearch.apiKey";
const LANG_STORE = "vlsearch.lang";
const HANDOFF_STORE = "vlsearch.rerankHandoff";  // search results handed to the rerank workbench

const I18N = {
  en: {
    search: "Search", documents: "Documents", api: "API docs", apiKey: "API key", save: "Save", saved: "Saved",
    query: "Query", text: "Text", image: "Image", video: "Video", queryPlaceholder: "e.g. how to replace the power supply module",
    dropImage: "Drop a photo here or click to choose", dropVideo: "Drop a short video here or click to choose",
    topK: "Results", rerank: "Rerank", instruction: "Rerank instruction (optional)", advanced: "Advanced",
    doSearch: "Search", searching: "Searching…", models: "Models", loadModel: "Load model", loading: "Loading…",
    modelReady: "Model ready", unload: "Unload", retry: "Retry load", noResults: "No results.",
    startHint: "Type a question, or add a photo or a short video, then press Search.",
    retrieval: "retrieval", rerankScore: "rerank", candidates: "candidates", reranked: "reranked",
    notReranked: "retrieval order", page: "p.", upload: "Upload", groups: "Groups (comma-separated, optional)", groupsCol: "Groups",
    chooseFiles: "Choose files or drop them here", uploading: "Uploading…", processing: "Indexing…",
    name: "Name", type: "Type", status: "Status", items: "Items", updated: "Updated", error: "Error",
    filter: "Filter by name", all: "All", delete: "Delete", confirmDelete: "Delete this document?",
    prev: "Previous", next: "Next", jobDone: "Job finished", failedFiles: "failed",
    videoTooLong: "The video is {d} s long; the limit is {m}. Trim it and try again.",
    videoUnreadable: "This video cannot be read by the browser; the server will check it.",
    duration: "Duration", openOriginal: "open", play: "Play from here",
    rerankPage: "Rerank", photos: "Photos", dropPhotos: "Drop photos here or click to choose (up to {n})",
    remove: "Remove", candidatesTitle: "Candidates", addText: "+ Text", addImage: "+ Image", addVideo: "+ Video",
    dropCandidates: "Drop images or videos here to add them as candidates", candidateText: "Candidate text",
    optionalText: "Text with the file (optional)", instructionTitle: "Instruction",
    useZhInstruction: "Use the article's Chinese IT instruction", useDefaultInstruction: "Use the default instruction",
    fps: "Frames per second", maxFrames: "Max frames", doRerank: "Rerank", reranking: "Reranking…",
    resultsTitle: "Results", rrSummary: "{n} candidates reranked in {ms} ms (server {server} ms)",
    rerankThese: "Rerank these", fromSearch: "from search", score: "score",
    needQuery: "Give a query: text, a photo or a video.", needCandidates: "Add at least one candidate.",
    emptyCandidate: "Candidate #{i} is empty: type its text or remove it.", rerankStartHint:
      "Give a query, add candidates (text, images, videos or a search's results), then press Rerank.",
    state_unloaded: "not loaded", state_loading: "loading", state_ready: "ready", state_failed: "failed",
    kind_text: "text", kind_image: "image", kind_video: "video", kind_item: "indexed",
    minutes: "{n} min", seconds: "{n} s", candidateN: "Candidate #{i}", wasN: "was #{i}",
    viewer: "Evidence viewer", viewEvidence: "Show where the answer is", evidenceLines: "Matching lines",
    noEvidence: "No line of this hit shares a word with the query.", close: "Close",
    boxesAtMoment: "The boxes mark the text at the keyframe's moment.",
  },
  zh: {
    search: "搜索", documents: "文档", api: "API 文档", apiKey: "API 密钥", save: "保存", saved: "已保存",
    query: "查询", text: "文本", image: "图片", video: "视频", queryPlaceholder: "例如:如何更换服务器电源模块",
    dropImage: "拖入一张照片,或点击选择", dropVideo: "拖入一段短视频,或点击选择",
    topK: "结果数", rerank: "重排序", instruction: "重排序指令(可选)", advanced: "高级选项",
    doSearch: "搜索", searching: "搜索中…", models: "模型", loadModel: "加载模型", loading: "加载中…",
    modelReady: "模型已就绪", unload: "卸载", retry: "重新加载", noResults: "没有结果。",
    startHint: "输入问题,或添加一张照片、一段短视频,然后点击搜索。",
    retrieval: "检索", rerankScore: "重排序", candidates: "候选", reranked: "已重排序",
    notReranked: "检索顺序", page: "第", upload: "上传", groups: "权限组(逗号分隔,可选)", groupsCol: "权限组",
    chooseFiles: "选择文件或拖到这里", uploading: "上传中…", processing: "索引中…",
    name: "名称", type: "类型", status: "状态", items: "条目", updated: "更新时间", error: "错误",
    filter: "按名称筛选", all: "全部", delete: "删除", confirmDelete: "确定删除此文档?",
    prev: "上一页", next: "下一页", jobDone: "任务完成", failedFiles: "失败",
    videoTooLong: "视频时长不能超过{m},请剪辑后重试",
    videoUnreadable: "浏览器无法读取此视频,将由服务器检查。",
    duration: "时长", openOriginal: "打开", play: "从此处播放",
    rerankPage: "重排序", photos: "照片", dropPhotos: "拖入照片,或点击选择(最多 {n} 张)",
    remove: "移除", candidatesTitle: "候选文档", addText: "+ 文本", addImage: "+ 图片", addVideo: "+ 视频",
    dropCandidates: "把图片或视频拖到这里,添加为候选", candidateText: "候选文本",
    optionalText: "文件的文字说明(可选)", instructionTitle: "指令",
    useZhInstruction: "使用文章中的中文 IT 知识库指令", useDefaultInstruction: "使用默认指令",
    fps: "每秒帧数", maxFrames: "最多帧数", doRerank: "重排序", reranking: "重排序中…",
    resultsTitle: "结果", rrSummary: "{n} 个候选已重排序,用时 {ms} 毫秒(服务器 {server} 毫秒)",
    rerankThese: "重排序这些结果", fromSearch: "来自搜索", score: "得分",
    needQuery: "请给出查询:文本、照片或视频。", needCandidates: "请至少添加一个候选。",
    emptyCandidate: "候选 #{i} 是空的:请填写文本,或将其移除。", rerankStartHint:
      "输入查询,添加候选(文本、图片、视频,或搜索结果),然后点击重排序。",
    state_unloaded: "未加载", state_loading: "加载中", state_ready: "就绪", state_failed: "加载失败",
    kind_text: "文本", kind_image: "图片", kind_video: "视频", kind_item: "已索引",
    minutes: "{n}分钟", seconds: "{n}秒", candidateN: "候选 #{i}", wasN: "原 #{i}",
    viewer: "证据查看器", viewEvidence: "查看答案所在位置", evidenceLines: "匹配的文字行",
    noEvidence: "此结果中没有与查询共有词语的文字行。", close: "关闭",
    boxesAtMoment: "方框标出的是关键帧时刻画面中的文字。",
  },
};

function lang() {
  const stored = localStorage.getItem(LANG_STORE);
  if (stored === "en" || stored === "zh") return stored;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

function t(key, vars) {
  let s = (I18N[lang()] || I18N.en)[key] || I18N.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
  return s;
}

function applyI18n(root) {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  (root || document).querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  (root || document).querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
}

function apiKey() { return localStorage.getItem(KEY_STORE) || ""; }

function authHeaders() {
  const key = apiKey();
  return key ? { "X-API-Key": key } : {};
}

class ApiError extends Error {
  constructor(status, code, message, detail) { super(message); this.status = status; this.code = code; this.detail = detail; }
}

async function api(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = Object.assign({}, authHeaders(), opts.headers || {});
  if (opts.json !== undefined) {
    opts.body = JSON.stringify(opts.json);
    opts.headers["Content-Type"] = "application/json";
    delete opts.json;
  }
  let resp;
  try { resp = await fetch(path, opts); } catch (e) { throw new ApiError(0, "network", "Cannot reach the server: " + e.message); }
  const isJson = (resp.headers.get("content-type") || "").includes("application/json");
  const body = isJson ? await resp.json() : await resp.text();
  if (!resp.ok) {
    const err = (body && body.error) || {};
    throw new ApiError(resp.status, err.code || "http_" + resp.status, err.message || String(body).slice(0, 300), err.detail);
  }
  return body;
}

// <img>/<video> cannot send headers: with a key set, fetch the bytes and use an object URL.
const blobCache = new Map();
async function mediaUrl(url) {
  if (!apiKey()) return url;
  const [path, frag] = url.split("#");
  if (!blobCache.has(path)) {
    blobCache.set(path, (async () => {
      const resp = await fetch(path, { headers: authHeaders() });
      if (!resp.ok) throw new ApiError(resp.status, "media", "media fetch failed: HTTP " + resp.status);
      return URL.createObjectURL(await resp.blob());
    })());
  }
  const objectUrl = await blobCache.get(path);
  return frag ? objectUrl + "#" + frag : objectUrl;
}

// Originals are the uploaders' files and may be hostile (an HTML page, an SVG): they never become a
// page of this origin. The server signs a short-lived link that needs no key, and the original opens
// from it in a window of its own, without an opener, under the server's sandbox policy.
async function openOriginal(docId, fragment) {
  const link = await api("/v1/documents/" + encodeURIComponent(docId) + "/original/link", { method: "POST" });
  window.open(link.url + (fragment ? "#" + fragment : ""), "_blank", "noopener,noreferrer");
}

// A search hit's "open" link: the document's original (at the hit's page), or the stored image.
async function openHitMedia(hit) {
  const url = hit.original_url || hit.media_url;
  const [path, frag] = url.split("#");
  if (path.includes("kind=original")) return openOriginal(hit.document.id, frag);
  // an image the server re-encoded at ingest (JPEG/PNG/WebP), served as such: a passive blob
  window.open(await mediaUrl(url), "_blank", "noopener,noreferrer");
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function fmtScore(x) { return x === null || x === undefined ? "—" : Number(x).toFixed(3); }
function fmtClock(s) {
  const whole = Math.floor(s || 0);
  return String(Math.floor(whole / 60)).padStart(2, "0") + ":" + String(whole % 60).padStart(2, "0");
}
function fmtBytes(n) {
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " MB";
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(0) + " KB";
  return n + " B";
}

function renderHeader(active) {
  const header = document.querySelector("header.top");
  header.replaceChildren(
    el("span", { class: "brand", text: "vlsearch" }),
    el("nav", {},
      el("a", { href: "/", class: active === "search" ? "active" : null, "data-i18n": "search" }),
      el("a", { href: "/rerank", class: active === "rerank" ? "active" : null, "data-i18n": "rerankPage" }),
      el("a", { href: "/documents", class: active === "documents" ? "active" : null, "data-i18n": "documents" }),
      el("a", { href: "/docs", class: active === "docs" ? "active" : null, "data-i18n": "api" })),
    el("span", { class: "spacer" }),
    el("label", { for: "api-key", "data-i18n": "apiKey" }),
    el("input", { id: "api-key", type: "password", autocomplete: "off", value: apiKey() }),
    el("button", { id: "save-key", "data-i18n": "save", onclick: () => {
      localStorage.setItem(KEY_STORE, document.getElementById("api-key").value.trim());
      blobCache.clear();
      const b = document.getElementById("save-key"); b.textContent = t("saved");
      setTimeout(() => { b.textContent = t("save"); }, 1200);
      document.dispatchEvent(new Event("vlsearch:key"));
    } }),
    el("button", { id: "lang-toggle", text: lang() === "zh" ? "English" : "中文", onclick: () => {
      localStorage.setItem(LANG_STORE, lang() === "zh" ? "en" : "zh");
      location.reload();
    } }),
  );
  applyI18n();
}

function showError(box, err) {
  box.replaceChildren();
  if (!err) { box.hidden = true; return; }
  box.hidden = false;
  box.textContent = (err.status ? "[" + err.status + " " + (err.code || "") + "] " : "") + err.message;
}

// A limit in seconds as people say it: "2 min" / "2分钟" for whole minutes, else seconds.
function fmtLimit(seconds) {
  const s = Number(seconds);
  return s >= 60 && s % 60 === 0 ? t("minutes", { n: s / 60 }) : t("seconds", { n: s });
}

// Read a video file's duration in the browser (the server checks again); resolves null when the
// browser cannot decode it. The <video> element is handed back for previews.
function probeVideo(file) {
  return new Promise((resolve) => {
    const video = el("video", { src: URL.createObjectURL(file), controls: true, muted: true, preload: "metadata" });
    video.addEventListener("loadedmetadata", () => resolve({ video, duration: isFinite(video.duration) ? video.duration : null }), { once: true });
    video.addEventListener("error", () => resolve({ video, duration: null }), { once: true });
  });
}

// Up to `count` evenly spaced frames of a video file as JPEG data: URLs (a frame strip).
async function videoFrames(file, count) {
  const video = el("video", { src: URL.createObjectURL(file), muted: true, preload: "auto" });
  await new Promise((resolve, reject) => {
    video.addEventListener("loadeddata", resolve, { once: true });
    video.addEventListener("error", () => reject(new Error("video not decodable")), { once: true });
  });
  const frames = [];
  const canvas = document.createElement("canvas");
  const width = 120;
  canvas.width = width;
  canvas.height = Math.max(1, Math.round(width * (video.videoHeight || 9) / (video.videoWidth || 16)));
  for (let k = 0; k < count; k++) {
    const at = (video.duration || 0) * (k + 0.5) / count;
    await new Promise((resolve) => {
      video.addEventListener("seeked", resolve, { once: true });
      video.currentTime = at;
    });
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    frames.push(canvas.toDataURL("image/jpeg", 0.75));
  }
  URL.revokeObjectURL(video.src);
  return frames;
}

// A drop zone over a file input: click to choose, or drop files on it.
function wireDropZone(zone, input, onFiles) {
  input.addEventListener("change", () => { if (input.files.length) onFiles(Array.from(input.files)); input.value = ""; });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault(); zone.classList.remove("over");
    if (e.dataTransfer.files.length) onFiles(Array.from(e.dataTransfer.files));
  });
}

// ---- the model panel (search and rerank pages) ---------------------------------------------
let modelTimer = null;

async function refreshModels() {
  const box = document.getElementById("models");
  const errBox = document.getElementById("models-error");
  if (!box) return;
  let data;
  try { data = await api("/v1/models"); showError(errBox, null); } catch (err) { showError(errBox, err); return; }
  box.replaceChildren(...data.models.map(renderModel));
  const busy = data.models.some((m) => m.state === "loading");
  clearTimeout(modelTimer);
  modelTimer = setTimeout(refreshModels, busy ? 700 : 5000);
  document.dispatchEvent(new CustomEvent("vlsearch:models", { detail: data.models }));
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
      el("div", {}, el("b", { text: m.name }), " ",
        el("span", { class: "badge " + m.state, "data-state": m.state, text: t("state_" + m.state) })),
      el("div", { class: "id", title: m.model_id, text: m.model_id + " · " + m.device }),
      // the whole error, wrapped: a load failure must be readable, not cut off by an ellipsis
      m.error ? el("div", { class: "model-error", text: m.error }) : null),
    el("div", { class: "actions" }, btn, unload));
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
