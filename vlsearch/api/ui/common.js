// Shared by every page: API key (localStorage → X-API-Key header), fetch with the error envelope,
// English / 中文 labels, media URLs that carry the key.
"use strict";

const KEY_STORE = "vlsearch.apiKey";
const LANG_STORE = "vlsearch.lang";

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
    videoTooLong: "The video is {d} s long; the limit is {m} s. Trim it and try again.",
    videoUnreadable: "This video cannot be read by the browser; the server will check it.",
    duration: "Duration", openOriginal: "open", play: "Play from here",
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
    videoTooLong: "视频时长 {d} 秒,超过 {m} 秒的限制,请剪辑后重试。",
    videoUnreadable: "浏览器无法读取此视频,将由服务器检查。",
    duration: "时长", openOriginal: "打开", play: "从此处播放",
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
