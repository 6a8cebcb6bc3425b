// The upload page: XMLHttpRequest upload (for its progress events), then the job's event
// stream read with fetch (so an Authorization header can go with it), then the outputs.
"use strict";

const KEY = "pony.apiKey";
const $ = (selector) => document.querySelector(selector);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let waiting = null; // a file to upload once the user gives a key

function authHeaders() {
  const key = localStorage.getItem(KEY);
  return key ? { Authorization: `Bearer ${key}` } : {};
}

function askForKey(file) {
  waiting = file || null;
  $("#key-box").hidden = false;
  $("#api-key").focus();
  showError("This server needs an API key (from 'pony tenants create').");
}

function showError(message) {
  const box = $("#error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function problemText(status, text) {
  try {
    const body = JSON.parse(text);
    return body.detail || body.title || `HTTP ${status}`;
  } catch {
    return `HTTP ${status}`;
  }
}

function upload(file) {
  showError("");
  $("#job").hidden = true;
  $("#outputs").hidden = true;
  $("#output-list").replaceChildren();
  $("#upload").hidden = false;
  $("#upload-name").textContent = file.name;
  setUploadProgress(0);

  const form = new FormData();
  form.append("file", file);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/v1/jobs");
  for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
  xhr.upload.onprogress = (event) => {
    if (event.lengthComputable) setUploadProgress(event.loaded / event.total);
  };
  xhr.onload = async () => {
    if (xhr.status === 401) return askForKey(file);
    if (xhr.status !== 202) return showError(await problemText(xhr.status, xhr.responseText));
    setUploadProgress(1);
    const job = JSON.parse(xhr.responseText);
    render(job);
    follow(job.id);
  };
  xhr.onerror = () => showError("The upload failed: the server could not be reached.");
  xhr.send(form);
}

function setUploadProgress(fraction) {
  $("#upload-progress").value = fraction;
  $("#upload-label").textContent = `${Math.round(fraction * 100)} %`;
}

// One Server-Sent Events block ("id: ...\nevent: ...\ndata: ...") as {id, type, data}.
function parseEvent(block) {
  const event = { id: null, type: "message", data: [] };
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") event.id = value;
    else if (field === "event") event.type = value;
    else if (field === "data") event.data.push(value);
  }
  return event.data.length ? { ...event, data: event.data.join("\n") } : null;
}

async function follow(jobId) {
  let lastId = null;
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const headers = authHeaders();
    if (lastId) headers["Last-Event-ID"] = lastId;
    let response;
    try {
      response = await fetch(`/v1/jobs/${jobId}/events`, { headers, cache: "no-store" });
    } catch {
      await sleep(2000);
      continue;
    }
    if (response.status === 401) return askForKey(null);
    if (!response.ok) return showError(await problemText(response.status, await response.text()));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const event = parseEvent(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (!event) continue;
          if (event.id) lastId = event.id;
          const job = JSON.parse(event.data);
          render(job);
          if (event.type !== "job.progress") return finish(job);
        }
      }
    } catch {
      // the connection dropped: resume from the last event seen
    }
    await sleep(1000);
  }
  showError("Lost the job's event stream.");
}

function render(job) {
  $("#job").hidden = false;
  $("#job-id").textContent = job.id;
  const status = $("#job-status");
  status.textContent = job.status;
  status.className = `status ${job.status}`;
  $("#job-progress").value = job.progress;
  const list = $("#steps");
  for (const step of job.steps) {
    let item = list.querySelector(`.step[data-name="${CSS.escape(step.name)}"]`);
    if (!item) {
      item = document.createElement("li");
      item.className = "step";
      item.dataset.name = step.name;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = step.name;
      name.title = step.op;
      const bar = document.createElement("progress");
      bar.max = 1;
      const label = document.createElement("span");
      label.className = "status";
      item.append(name, bar, label);
      list.append(item);
    }
    item.dataset.status = step.status;
    item.querySelector("progress").value = step.progress;
    const percent = step.status === "running" ? ` ${Math.round(step.progress * 100)} %` : "";
    item.querySelector(".status").textContent = step.status + percent;
  }
}

function finish(job) {
  if (job.status !== "succeeded") {
    const reason = job.error ? job.error.message : `the job was ${job.status}`;
    showError(`The job ${job.status}: ${reason}`);
  }
  if (!job.outputs.length) return;
  $("#outputs").hidden = false;
  const list = $("#output-list");
  list.replaceChildren(...job.outputs.map((output) => outputFigure(job, output)));
}

function outputFigure(job, output) {
  const figure = document.createElement("figure");
  figure.className = "output";
  figure.dataset.name = output.name;
  const kind = output.content_type.split("/")[0];
  const tag = { image: "img", video: "video", audio: "audio" }[kind];
  const media = tag ? document.createElement(tag) : null;
  if (media) {
    media.dataset.name = output.name;
    if (tag === "img") media.alt = output.name;
    else media.controls = true;
    figure.append(media);
  }
  const link = document.createElement("a");
  link.textContent = `${output.name} (${output.content_type}, ${formatSize(output.size)})`;
  link.download = output.name;
  const caption = document.createElement("figcaption");
  caption.append(link);
  figure.append(caption);
  sourceFor(job, output).then((url) => {
    if (media) media.src = url;
    link.href = url;
  }, (error) => showError(`Could not load ${output.name}: ${error.message}`));
  return figure;
}

// The output's URL on this page's origin; with an API key, the bytes are fetched with it and
// shown from a blob, since <img> and <video> cannot send an Authorization header.
async function sourceFor(job, output) {
  const path = `/v1/jobs/${encodeURIComponent(job.id)}/outputs/${encodeURIComponent(output.name)}`;
  const headers = authHeaders();
  if (!headers.Authorization) return path;
  const response = await fetch(path, { headers });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return URL.createObjectURL(await response.blob());
}

function formatSize(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

function setUp() {
  const drop = $("#drop");
  const input = $("#file");
  input.addEventListener("change", () => input.files.length && upload(input.files[0]));
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer.files[0];
    if (file) upload(file);
  });
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") input.click();
  });
  $("#api-key").value = localStorage.getItem(KEY) || "";
  $("#key-box").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(KEY, $("#api-key").value.trim());
    $("#key-box").hidden = true;
    showError("");
    if (waiting) upload(waiting);
    waiting = null;
  });
}

setUp();
