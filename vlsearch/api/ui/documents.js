// Documents page: upload with a progress bar (transfer, then the ingest job polled from /v1/jobs/{id}),
// failures with their reasons, and the paged document list.
"use strict";

const PAGE = 25;
let offset = 0;
let filterTimer = null;

function setProgress(fraction, done) {
  const bar = document.getElementById("job-progress");
  bar.firstElementChild.style.width = Math.round(Math.max(0, Math.min(1, fraction)) * 100) + "%";
  bar.classList.toggle("done", !!done);
  bar.dataset.progress = fraction.toFixed(3);
}

function uploadWithProgress(form) {
  // XMLHttpRequest, not fetch: only XHR reports upload progress.
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/documents");
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) setProgress(0.3 * e.loaded / e.total, false); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        const err = (body && body.error) || {};
        reject(new ApiError(xhr.status, err.code || "http_" + xhr.status, err.message || xhr.statusText, err.detail));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "Upload failed: cannot reach the server"));
    xhr.send(form);
  });
}

async function onUpload(ev) {
  ev.preventDefault();
  const input = document.getElementById("files");
  const errBox = document.getElementById("upload-error");
  showError(errBox, null);
  if (!input.files.length) { showError(errBox, { message: t("chooseFiles") }); return; }
  const form = new FormData();
  for (const f of input.files) form.append("files", f, f.name);
  const groups = document.getElementById("groups").value.trim();
  if (groups) form.append("groups", groups);
  const btn = document.getElementById("upload-btn");
  btn.disabled = true;
  document.getElementById("job").hidden = false;
  document.getElementById("job-label").textContent = t("uploading");
  document.getElementById("job-files").replaceChildren();
  setProgress(0, false);
  try {
    const accepted = await uploadWithProgress(form);
    document.getElementById("job").dataset.jobId = accepted.job_id;
    await pollJob(accepted.job_id);
  } catch (err) {
    showError(errBox, err);
  } finally {
    btn.disabled = false;
  }
}

async function pollJob(jobId) {
  for (;;) {
    const job = await api("/v1/jobs/" + encodeURIComponent(jobId));
    renderJob(job);
    if (job.status === "done" || job.status === "failed") { loadDocuments(); return job; }
    await new Promise((r) => setTimeout(r, 400));
  }
}

function renderJob(job) {
  const finished = job.status === "done" || job.status === "failed";
  document.getElementById("job").dataset.status = job.status;
  document.getElementById("job-label").textContent = finished ? t("jobDone") : t("processing");
  const failed = job.results.filter((r) => r.status === "failed").length;
  document.getElementById("job-count").textContent = job.done + " / " + job.total + (failed ? " · " + failed + " " + t("failedFiles") : "");
  setProgress(0.3 + 0.7 * job.progress, finished);
  document.getElementById("job-files").replaceChildren(...job.results.map((r) =>
    el("li", { "data-status": r.status },
      el("span", { class: "badge " + r.status, text: r.status }), " ", el("b", { text: r.name }),
      r.items ? el("span", { class: "hint", text: " · " + r.items + " " + t("items") }) : null,
      r.error ? el("span", { class: "reason", text: r.error }) : null)));
}

async function loadDocuments() {
  const errBox = document.getElementById("docs-error");
  const params = new URLSearchParams({ offset: String(offset), limit: String(PAGE) });
  const q = document.getElementById("filter-q").value.trim();
  const status = document.getElementById("filter-status").value;
  if (q) params.set("q", q);
  if (status) params.set("status", status);
  let page;
  try { page = await api("/v1/documents?" + params); showError(errBox, null); } catch (err) { showError(errBox, err); return; }
  document.getElementById("docs").replaceChildren(...page.documents.map(renderDoc));
  const last = Math.min(page.total, offset + page.documents.length);
  document.getElementById("page-info").textContent = (page.total ? offset + 1 : 0) + "–" + last + " / " + page.total;
  document.getElementById("prev").disabled = offset === 0;
  document.getElementById("next").disabled = last >= page.total;
}

function renderDoc(d) {
  const name = d.original_url
    ? el("a", { href: "#", text: d.name, onclick: (e) => { e.preventDefault(); openOriginal(d.id).catch((err) => showError(document.getElementById("docs-error"), err)); } })
    : el("span", { text: d.name });
  return el("tr", { "data-doc-id": d.id, "data-status": d.status },
    el("td", {}, name, d.title && d.title !== d.name ? el("div", { class: "hint", text: d.title }) : null),
    el("td", { text: d.doc_type }),
    el("td", {}, el("span", { class: "badge " + d.status, text: d.status })),
    el("td", { text: String(d.item_count) }),
    el("td", { text: d.groups.join(", ") }),
    el("td", { class: "hint", text: new Date(d.updated_at).toLocaleString() }),
    el("td", { class: "err", text: d.error || "" }),
    el("td", {}, el("button", { class: "delete-btn", text: t("delete"), onclick: () => deleteDoc(d) })));
}

async function deleteDoc(d) {
  if (!confirm(t("confirmDelete") + "\n" + d.name)) return;
  try { await api("/v1/documents/" + encodeURIComponent(d.id), { method: "DELETE" }); }
  catch (err) { showError(document.getElementById("docs-error"), err); }
  loadDocuments();
}

function init() {
  renderHeader("documents");
  const input = document.getElementById("files");
  const zone = document.getElementById("drop-files");
  const chosen = () => {
    document.getElementById("chosen").textContent = Array.from(input.files).map((f) => f.name + " (" + fmtBytes(f.size) + ")").join(", ");
  };
  input.addEventListener("change", chosen);
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); input.files = e.dataTransfer.files; chosen(); });
  document.getElementById("upload-form").addEventListener("submit", onUpload);
  document.getElementById("filter-q").addEventListener("input", () => { clearTimeout(filterTimer); filterTimer = setTimeout(() => { offset = 0; loadDocuments(); }, 250); });
  document.getElementById("filter-status").addEventListener("change", () => { offset = 0; loadDocuments(); });
  document.getElementById("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); loadDocuments(); });
  document.getElementById("next").addEventListener("click", () => { offset += PAGE; loadDocuments(); });
  document.addEventListener("vlsearch:key", loadDocuments);
  loadDocuments();
}

init();
