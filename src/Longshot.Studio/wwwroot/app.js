// Longshot Studio: the storyline editor, the job history and the live view of one job with its timeline. Plain
// browser JavaScript, no build step; the server's JSON API does the work. Ranges are half-open everywhere.
"use strict";

const $ = (id) => document.getElementById(id);
let settings = null;
let current = null;       // the job shown
let source = null;        // its event stream
const DRAFT = "longshot.draft";

async function api(path, body, method) {
  const r = await fetch(path, body === undefined ? {} : {
    method: method || "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error(data.error || r.statusText), { data, status: r.status });
  return data;
}

function option(select, value, label) {
  const o = document.createElement("option");
  o.value = value; o.textContent = label; select.appendChild(o);
}

function element(tag, props, ...children) {
  const e = Object.assign(document.createElement(tag), props || {});
  e.append(...children);
  return e;
}

async function init() {
  settings = await api("/api/settings");
  settings.schemes.forEach((s) => option($("scheme"), s, s));
  settings.samplers.forEach((s) => option($("sampler"), s, s));
  settings.presets.forEach((p) => option($("preset"), p.name, p.title));
  option($("preset"), "", "custom");
  const storyModels = settings.models.filter((m) => m.kind === "story");
  for (const id of ["global", "local"]) storyModels.forEach((m) => option($(id), m.path ?? "", m.name));
  option($("model"), "", "Toonworld models (storyline)");
  settings.models.filter((m) => m.kind !== "story").forEach((m) => option($("model"), m.path, m.name));
  $("frames").max = settings.maxFrames;
  $("server-note").textContent = settings.ffmpeg ? "videos as MP4" : "videos as GIF (no ffmpeg on the server)";
  loadDraft();
  $("model").addEventListener("change", () => { pickModel(true); saveDraft(); });
  $("preset").addEventListener("change", applyPreset);
  $("editor").addEventListener("input", (e) => {
    if (e.target.closest(".settings") && e.target.id !== "preset") matchPreset();
    showSeconds();
    saveDraft();
  });
  $("story").addEventListener("input", validateSoon);
  $("frames").addEventListener("input", validateSoon);
  $("random-seed").addEventListener("click", () => { $("seed").value = randomSeed(); saveDraft(); });
  $("start").addEventListener("click", start);
  $("redraw-start").addEventListener("click", redraw);
  setupTimeline();
  pickModel(false);
  matchPreset();
  showSeconds();
  await validate();
  await refreshJobs();
  setInterval(refreshJobs, 3000);
  window.addEventListener("popstate", openFromAddress);
  await openFromAddress();
}

const randomSeed = () => 1 + Math.floor(Math.random() * 2147483646);

// ---- The draft: every field of the editor, kept in this browser across reloads -------------------------------------

const DRAFT_FIELDS = ["model", "story", "frames", "scheme", "steps", "global-steps", "guidance", "sampler",
  "fill-start", "fill-ease", "seed", "global", "local", "i2v-width", "i2v-height", "i2v-fps", "i2v-motion",
  "i2v-noise", "i2v-min-guidance", "i2v-max-guidance", "t2v-prompt", "t2v-negative", "t2v-width", "t2v-height",
  "t2v-guidance", "t2v-fps"];

function saveDraft() {
  const draft = {};
  for (const id of DRAFT_FIELDS) draft[id] = $(id).value;
  try { localStorage.setItem(DRAFT, JSON.stringify(draft)); } catch (e) { /* storage full or off: no draft */ }
}

function loadDraft() {
  let draft = null;
  try { draft = JSON.parse(localStorage.getItem(DRAFT) || "null"); } catch (e) { draft = null; }
  if (!draft) return;
  for (const id of DRAFT_FIELDS) {
    if (typeof draft[id] !== "string") continue;
    const field = $(id);
    // A select keeps its value only if the option still exists (a model folder may be gone).
    if (field.tagName === "SELECT" && ![...field.options].some((o) => o.value === draft[id])) continue;
    field.value = draft[id];
  }
}

// ---- Presets and the video's length in seconds -------------------------------------------------------------------

const PRESET_FIELDS = { steps: "steps", globalSteps: "global-steps", guidance: "guidance", sampler: "sampler",
  fillStart: "fill-start", fillEase: "fill-ease" };

function applyPreset() {
  const p = settings.presets.find((x) => x.name === $("preset").value);
  if (!p) return;
  for (const [key, id] of Object.entries(PRESET_FIELDS)) $(id).value = p[key];
  saveDraft();
}

// The preset list names the preset the fields match, or "custom".
function matchPreset() {
  const same = (p) => Object.entries(PRESET_FIELDS).every(([key, id]) =>
    key === "sampler" ? $(id).value === p[key] : Math.abs(parseFloat($(id).value) - p[key]) < 1e-9);
  const p = settings.presets.find(same);
  $("preset").value = p ? p.name : "";
}

function fps() {
  if (imageToVideo()) return parseFloat($("i2v-fps").value) || 1;
  return textToVideo() ? parseFloat($("t2v-fps").value) || 1 : settings.fps;
}

function showSeconds() {
  const frames = parseInt($("frames").value, 10);
  $("frames-seconds").textContent = Number.isFinite(frames) && frames > 0
    ? `${(frames / fps()).toFixed(1)} s at ${fps()} fps` : "";
}

// ---- The storyline: checked by the server's parser, drawn on a ruler whose prompts edit in place -------------------

let timer = null;
function validateSoon() { clearTimeout(timer); timer = setTimeout(validate, 250); }

async function validate() {
  const frames = parseInt($("frames").value, 10);
  try {
    const r = await api("/api/storyline", { story: $("story").value, frames: Number.isFinite(frames) ? frames : null });
    $("story-error").textContent = "";
    $("story-warning").textContent = r.warnings.join("\n");
    drawRuler($("ruler"), r.segments, r.frames, editStoryPrompt);
    return true;
  } catch (e) {
    $("story-error").textContent = e.data && e.data.line ? `line ${e.data.line}: ${e.message}` : e.message;
    $("story-warning").textContent = "";
    drawRuler($("ruler"), [], 1, null);
    return false;
  }
}

// Segments over the frames, as wide as they are long; clicking one turns its prompt into a text field.
function drawRuler(ruler, segments, frames, onEdit) {
  if (ruler.querySelector("input.in-place")) return;   // a prompt being edited: redrawn when it is done
  ruler.innerHTML = "";
  segments.forEach((s, i) => {
    const end = Math.min(s.end, frames);
    if (end <= s.start) return;
    const d = element("div", { title: `${s.start}-${end}: ${s.prompt}` },
      element("span", { className: "range", textContent: `${s.start}-${end}` }),
      element("span", { className: "prompt", textContent: s.prompt }));
    d.style.flex = `${end - s.start} 0 0`;
    d.style.background = `hsl(${(i * 67) % 360} 45% 35%)`;
    d.dataset.segment = i;
    if (onEdit) d.addEventListener("click", () => editInPlace(d, s, (prompt) => onEdit(i, s, prompt, end)));
    ruler.appendChild(d);
  });
}

function editInPlace(cell, segment, commit) {
  if (cell.querySelector("input")) return;
  const field = element("input", { type: "text", value: segment.prompt, className: "in-place" });
  const prompt = cell.querySelector(".prompt");
  prompt.replaceWith(field);
  field.focus();
  field.select();
  let done = false;
  const finish = (keep) => {
    if (done) return;
    done = true;
    const text = field.value.trim();
    field.replaceWith(prompt);
    if (keep && text && text !== segment.prompt) commit(text);
    else if (cell.parentElement === $("ruler")) validateSoon();
  };
  field.addEventListener("keydown", (e) => {
    if (e.key === "Enter") finish(true);
    else if (e.key === "Escape") finish(false);
  });
  field.addEventListener("blur", () => finish(true));
}

// The i-th segment is the i-th line that is neither blank nor a comment, as the parser reads it.
function editStoryPrompt(index, segment, prompt) {
  const lines = $("story").value.split("\n");
  let seen = -1;
  for (let k = 0; k < lines.length; k++) {
    const t = lines[k].trim();
    if (t === "" || t.startsWith("#")) continue;
    if (++seen !== index) continue;
    const colon = lines[k].indexOf(":");
    lines[k] = lines[k].slice(0, colon + 1) + " " + prompt.replace(/\n/g, " ");
    break;
  }
  $("story").value = lines.join("\n");
  saveDraft();
  validate();
}

// ---- Published models: a first frame (image-to-video) or a prompt (text-to-video) instead of a storyline -----------

function imageToVideo() { return !$("i2v").hidden; }
function textToVideo() { return !$("t2v").hidden; }

function pickModel(userChoice) {
  const m = settings.models.find((x) => (x.path ?? "") === $("model").value && x.kind !== "story");
  $("i2v").hidden = !m || m.kind !== "image-to-video";
  $("t2v").hidden = !m || m.kind !== "text-to-video";
  $("story-editor").hidden = !!m;
  document.querySelectorAll(".story-only").forEach((e) => { e.hidden = !!m; });
  $("model-family").textContent = m ? m.family : "";
  // The pipelines' own defaults: SVD's 14 frames and 25 steps, diffusers' text-to-video 16 frames and 50 steps.
  if (m && userChoice) {
    $("frames").value = m.kind === "image-to-video" ? 14 : 16;
    $("steps").value = m.kind === "image-to-video" ? 25 : 50;
  }
  showSeconds();
}

function textToVideoSpec() {
  const num = (id) => parseFloat($(id).value);
  return {
    model: $("model").value, prompt: $("t2v-prompt").value, negativePrompt: $("t2v-negative").value || null,
    frames: parseInt($("frames").value, 10), steps: parseInt($("steps").value, 10),
    seed: parseInt($("seed").value, 10), width: num("t2v-width"), height: num("t2v-height"),
    guidance: num("t2v-guidance"), fps: num("t2v-fps"),
  };
}

function readImage() {
  const file = $("init-image").files[0];
  if (!file) return Promise.reject(new Error("First frame: choose a PNG image."));
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(new Error("First frame: the file could not be read."));
    reader.readAsDataURL(file);
  });
}

async function imageToVideoSpec() {
  const num = (id) => parseFloat($(id).value);
  return {
    model: $("model").value, image: await readImage(), frames: parseInt($("frames").value, 10),
    steps: parseInt($("steps").value, 10), seed: parseInt($("seed").value, 10), width: num("i2v-width"),
    height: num("i2v-height"), fps: num("i2v-fps"), motionBucket: num("i2v-motion"), noiseAug: num("i2v-noise"),
    minGuidance: num("i2v-min-guidance"), maxGuidance: num("i2v-max-guidance"),
  };
}

function spec() {
  return {
    story: $("story").value, frames: parseInt($("frames").value, 10), scheme: $("scheme").value,
    steps: parseInt($("steps").value, 10), globalSteps: parseInt($("global-steps").value, 10),
    guidance: parseFloat($("guidance").value), sampler: $("sampler").value,
    fillStart: parseFloat($("fill-start").value), fillEase: parseInt($("fill-ease").value, 10),
    seed: parseInt($("seed").value, 10), global: $("global").value || null, local: $("local").value || null,
  };
}

async function start() {
  $("submit-error").textContent = "";
  if (!imageToVideo() && !textToVideo() && !(await validate())) return;
  try {
    const body = imageToVideo() ? await imageToVideoSpec() : textToVideo() ? textToVideoSpec() : spec();
    const job = await api("/api/jobs", body);
    await refreshJobs();
    show(job);
  } catch (e) { $("submit-error").textContent = e.message; }
}

// A job's settings back in the editor (its first frame cannot be: the browser picks files).
function loadIntoEditor(job) {
  const s = job.spec;
  $("model").value = job.kind === "image-to-video" || job.kind === "text-to-video" ? s.model : "";
  pickModel(false);
  const set = { story: s.story, frames: s.frames, steps: s.steps, seed: s.seed, scheme: s.scheme,
    "global-steps": s.globalSteps, guidance: s.guidance, sampler: s.sampler, "fill-start": s.fillStart,
    "fill-ease": s.fillEase, global: s.global ?? "", local: s.local ?? "", "i2v-width": s.width,
    "i2v-height": s.height, "i2v-fps": s.fps, "i2v-motion": s.motionBucket, "i2v-noise": s.noiseAug,
    "i2v-min-guidance": s.minGuidance, "i2v-max-guidance": s.maxGuidance, "t2v-prompt": s.prompt,
    "t2v-negative": s.negativePrompt ?? "", "t2v-width": s.width, "t2v-height": s.height, "t2v-guidance": s.guidance,
    "t2v-fps": s.fps };
  for (const [id, value] of Object.entries(set)) if (value !== undefined && value !== null) $(id).value = value;
  matchPreset();
  showSeconds();
  saveDraft();
  validate();
  $("editor").scrollIntoView();
}

// ---- The history ---------------------------------------------------------------------------------------------------

let shownJobs = "";
let confirmDelete = null;  // the job whose delete button asks to be clicked again

// The settings a job ran with, in a few words.
function settingsOf(job) {
  const s = job.spec;
  if (job.kind === "image-to-video")
    return `${s.width}x${s.height} · ${s.steps} steps · ${s.fps} fps · motion ${s.motionBucket}`;
  if (job.kind === "text-to-video")
    return `${s.width ? `${s.width}x${s.height}` : "model size"} · ${s.steps} steps · guidance ${s.guidance}`;
  const steps = s.globalSteps && s.globalSteps !== s.steps ? `${s.steps} steps (keyframes ${s.globalSteps})`
    : `${s.steps} steps`;
  return `${s.scheme} · ${steps} · ${s.sampler} · guidance ${s.guidance}`;
}

function firstPrompt(job) {
  if (job.kind === "image-to-video") return "first frame to video";
  if (job.kind === "text-to-video") return job.spec.prompt || "";
  const lines = job.spec.story.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const first = lines.length ? lines[0].slice(lines[0].indexOf(":") + 1).trim() : "";
  return lines.length > 1 ? `${first} (+${lines.length - 1} more)` : first;
}

async function refreshJobs() {
  let jobs;
  try { jobs = await api("/api/jobs"); } catch (e) { $("jobs-error").textContent = e.message; return; }
  $("jobs-error").textContent = "";
  const key = JSON.stringify([jobs, current && current.id, confirmDelete]);
  if (key === shownJobs) return;
  shownJobs = key;
  const body = $("jobs").querySelector("tbody");
  body.innerHTML = "";
  for (const j of jobs) body.appendChild(jobRow(j));
}

function jobRow(j) {
  const tr = element("tr");
  tr.dataset.id = j.id;
  if (current && current.id === j.id) tr.className = "selected";
  const thumb = element("img", { className: "thumb", alt: "", src: `/api/jobs/${j.id}/thumbnail?s=${j.status}` });
  thumb.addEventListener("error", () => { thumb.style.visibility = "hidden"; });
  const open = element("a", { href: `/jobs/${j.id}`, className: "open", textContent: j.id });
  open.addEventListener("click", (ev) => { ev.preventDefault(); show(j); });
  const prompt = firstPrompt(j);
  const published = j.kind === "image-to-video" || j.kind === "text-to-video";
  const rate = published && j.spec.fps ? j.spec.fps : settings.fps;
  const frames = `${j.spec.frames} (${(j.spec.frames / rate).toFixed(1)} s)`;
  const parent = element("td");
  if (j.spec.parent) {
    const a = element("a", { href: `/jobs/${j.spec.parent}`,
      textContent: `${j.spec.parent} ${j.spec.from}-${j.spec.to}` });
    a.addEventListener("click", (ev) => { ev.preventDefault(); openById(j.spec.parent); });
    parent.append(a);
  }
  tr.append(element("td", {}, thumb), element("td", {}, open,
    element("div", { className: "hint", textContent: `${j.kind} · ${settingsOf(j)}` })),
    element("td", { className: "prompt", textContent: prompt, title: j.spec.story || prompt }),
    element("td", { textContent: frames }), element("td", { textContent: j.spec.seed }),
    element("td", { textContent: j.seconds == null ? "" : `${j.seconds} s` }), parent,
    element("td", { className: "status", textContent: j.status + (j.error ? `: ${j.error}` : "") }),
    element("td", { className: "actions" }, ...jobActions(j)));
  return tr;
}

function button(text, className, onClick) {
  const b = element("button", { textContent: text, className: `small ${className}`, type: "button" });
  b.addEventListener("click", onClick);
  return b;
}

function jobActions(j) {
  const act = (f) => async () => {
    $("jobs-error").textContent = "";
    try { await f(); } catch (e) { $("jobs-error").textContent = e.message; }
    await refreshJobs();
  };
  if (j.status === "queued" || j.status === "running")
    return [button("cancel", "cancel", act(() => api(`/api/jobs/${j.id}/cancel`, {})))];
  const list = [];
  if (j.kind !== "redraw") list.push(button("load", "load", () => loadIntoEditor(j)));
  list.push(button("re-run", "rerun", act(async () => show(await api(`/api/jobs/${j.id}/rerun`, {})))));
  const asking = confirmDelete === j.id;
  list.push(button(asking ? "really delete?" : "delete", "delete", act(async () => {
    if (!asking) { confirmDelete = j.id; setTimeout(() => { confirmDelete = null; refreshJobs(); }, 4000); return; }
    confirmDelete = null;
    await api(`/api/jobs/${j.id}`, {}, "DELETE");
    if (current && current.id === j.id) hideView();
  })));
  return list;
}

// ---- A job's address: /jobs/ID opens it ----------------------------------------------------------------------------

async function openFromAddress() {
  const m = location.pathname.match(/^\/jobs\/([0-9a-f]{12})$/);
  if (!m) { if (current) hideView(false); return; }
  await openById(m[1], false);
}

async function openById(id, push = true) {
  try { show(await api(`/api/jobs/${id}`), push); } catch (e) {
    $("jobs-error").textContent = e.status === 404 ? "That job is not in the history (deleted?)." : e.message;
  }
}

function hideView(push = true) {
  current = null;
  if (source) { source.close(); source = null; }
  $("view").hidden = true;
  if (push && location.pathname !== "/") history.pushState(null, "", "/");
  shownJobs = "";
  refreshJobs();
}

// ---- The live view: progress, the plan's levels filling in, the result, the timeline ------------------------------

function show(job, push = true) {
  current = job;
  if (push && location.pathname !== `/jobs/${job.id}`) history.pushState(null, "", `/jobs/${job.id}`);
  if (source) source.close();
  $("view").hidden = false;
  $("view-title").textContent = `Job ${job.id} (${job.kind}, ${job.spec.frames} frames, seed ${job.spec.seed})`;
  $("progress").textContent = job.status;
  for (const id of ["result", "strips", "compare-old", "compare-new"]) $(id).innerHTML = "";
  for (const id of ["redraw", "compare", "frame-view"]) $(id).hidden = true;
  drawTimeline(job);
  shownJobs = "";
  refreshJobs();
  source = new EventSource(`/api/jobs/${job.id}/events`);
  source.onmessage = (m) => onEvent(job, JSON.parse(m.data));
  source.onerror = () => { if (source) source.close(); };
  if (job.status === "done") showResult(job);
}

function onEvent(job, e) {
  if (job !== current) return;
  if (e.type === "plan") drawStrips(e.levels);
  else if (e.type === "progress") {
    const eta = e.eta == null ? "estimating the time left" : `about ${formatSeconds(e.eta)} left`;
    $("progress").textContent = `level ${e.level}/${e.levels}: ${e.done} of ${e.total} units, ${eta}`;
  } else if (e.type === "preview") fill(e.index, `/api/jobs/${job.id}/keys/${e.index}`);
  else if (e.type === "frame") {
    const url = `/api/jobs/${job.id}/frames/${e.index}`;
    fill(e.index, url);
    fillThumb(e.index, url);
  } else if (e.type === "range") job.range = e;
  else if (e.type === "status") {
    $("progress").textContent = e.status + (e.error ? `: ${e.error}` : "");
    if (e.status === "done") api(`/api/jobs/${job.id}`).then((j) => {
      j.range = job.range;
      if (current === job) { current = j; showResult(j); }
    });
    refreshJobs();
  } else if (e.type === "end" && source) source.close();
}

function formatSeconds(s) {
  return s < 90 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function drawStrips(levels) {
  const strips = $("strips");
  strips.innerHTML = "";
  levels.forEach((frames, k) => {
    const h = element("h3", { textContent: `Level ${k + 1}: ${frames.length} frames shown` +
      (k === 0 && levels.length > 1 ? " (global keyframes)" : "") });
    const strip = element("div", { className: "strip" });
    strip.dataset.level = k + 1;
    for (const f of frames) {
      const slot = element("span", { className: "slot", title: `frame ${f}` });
      slot.dataset.frame = f;
      strip.appendChild(slot);
    }
    strips.append(h, strip);
  });
}

function fill(index, url) {
  for (const slot of document.querySelectorAll(`#strips span[data-frame="${index}"]`)) {
    const img = element("img", { src: url, alt: `frame ${index}`, title: `frame ${index}` });
    img.dataset.frame = index;
    slot.replaceWith(img);
  }
}

async function showResult(job) {
  const src = `/api/jobs/${job.id}/video`;
  const name = `longshot-${job.id}${job.video && job.video.endsWith(".mp4") ? ".mp4" : ".gif"}`;
  const isVideo = job.video && job.video.endsWith(".mp4");
  const media = element(isVideo ? "video" : "img", { id: "video", src });
  if (isVideo) Object.assign(media, { controls: true, autoplay: true, loop: true, muted: true });
  media.addEventListener("timeupdate", movePlayhead);
  const downloads = element("div", { className: "downloads" }, "download: ",
    element("a", { href: src, textContent: "the video", download: name, id: "download-video" }));
  $("result").innerHTML = "";
  $("result").append(media, downloads);
  api(`/api/jobs/${job.id}/sheets`).then((sheets) => {
    for (const s of sheets)
      downloads.append(" · ", element("a", { href: s.url, textContent: `level ${s.level} contact sheet`,
        download: `longshot-${job.id}-level${s.level}.png`, className: "sheet" }));
  }).catch(() => {});
  if (!$("strips").children.length) {
    // Opened after the fact: one strip from the saved frames.
    drawStrips([thumbFrames(job.spec.frames)]);
    document.querySelectorAll("#strips [data-frame]").forEach((s) =>
      fill(+s.dataset.frame, `/api/jobs/${job.id}/frames/${s.dataset.frame}`));
  }
  document.querySelectorAll("#thumbs .thumb-frame").forEach((t) =>
    fillThumb(+t.dataset.frame, `/api/jobs/${job.id}/frames/${t.dataset.frame}`));
  if (job.kind === "generate" && job.spec.scheme === "dod") {
    $("redraw").hidden = false;
    $("redraw-to").max = job.spec.frames;
  }
  if (job.kind === "redraw") compare(job);
}

// ---- The timeline: the job's segments over numbered thumbnails; click shows a frame, drag picks a range -----------

function thumbFrames(frames) {
  const every = Math.max(1, Math.ceil(frames / 48));
  return Array.from({ length: Math.ceil(frames / every) }, (_, i) => i * every);
}

async function drawTimeline(job) {
  const frames = job.spec.frames;
  $("timeline").hidden = false;
  $("timeline").dataset.frames = frames;
  const thumbs = $("thumbs");
  thumbs.querySelectorAll(".thumb-frame").forEach((t) => t.remove());
  $("selection").hidden = true;
  $("playhead").hidden = true;
  const list = thumbFrames(frames);
  list.forEach((f, i) => {
    const span = (i + 1 < list.length ? list[i + 1] : frames) - f;
    const cell = element("div", { className: "thumb-frame", title: `frame ${f}` },
      element("span", { className: "number", textContent: f }));
    cell.dataset.frame = f;
    cell.style.flex = `${span} 0 0`;
    thumbs.appendChild(cell);
  });
  $("job-ruler").innerHTML = "";
  if (job.kind !== "generate" && job.kind !== "redraw") return;
  try {
    const r = await api("/api/storyline", { story: job.spec.story, frames });
    const redraws = job.kind === "generate" && job.spec.scheme === "dod";
    drawRuler($("job-ruler"), r.segments, frames, redraws ? prepareSegmentRedraw : null);
  } catch (e) { /* a stored storyline always parses; nothing to draw otherwise */ }
}

function fillThumb(index, url) {
  const cell = document.querySelector(`#thumbs .thumb-frame[data-frame="${index}"]`);
  if (!cell || cell.querySelector("img")) return;
  cell.prepend(element("img", { src: url, alt: `frame ${index}` }));
}

// A new prompt for one segment of the shown video prepares its redraw.
function prepareSegmentRedraw(index, segment, prompt, end) {
  selectRange(segment.start, end);
  $("redraw-story").value = prompt;
  $("redraw").scrollIntoView({ block: "nearest" });
}

function frameAt(clientX) {
  const box = $("thumbs").getBoundingClientRect();
  const frames = +$("timeline").dataset.frames;
  const x = Math.min(Math.max(clientX - box.left, 0), box.width - 1);
  return Math.min(frames - 1, Math.floor(x / box.width * frames));
}

function setupTimeline() {
  const thumbs = $("thumbs");
  let anchor = null;
  thumbs.addEventListener("pointerdown", (e) => {
    if (!current) return;
    anchor = frameAt(e.clientX);
    try { thumbs.setPointerCapture(e.pointerId); } catch (err) { /* a pointer that is not active: no capture */ }
    showFrame(anchor);
    e.preventDefault();
  });
  thumbs.addEventListener("pointermove", (e) => {
    if (anchor === null) return;
    const f = frameAt(e.clientX);
    showFrame(f);
    if (f !== anchor) selectRange(Math.min(anchor, f), Math.max(anchor, f) + 1);
  });
  const release = () => { anchor = null; };
  thumbs.addEventListener("pointerup", release);
  thumbs.addEventListener("pointercancel", release);
}

// The range [from, to) marked on the timeline and set as the redraw's range.
function selectRange(from, to) {
  const frames = +$("timeline").dataset.frames;
  const sel = $("selection");
  sel.hidden = false;
  sel.style.left = `${from / frames * 100}%`;
  sel.style.width = `${(to - from) / frames * 100}%`;
  sel.title = `frames ${from}-${to}`;
  $("redraw-from").value = from;
  $("redraw-to").value = to;
}

// Scrubbing: the frame under the pointer, large, with its download; the video jumps there.
function showFrame(f) {
  if (!current) return;
  const url = `/api/jobs/${current.id}/frames/${f}`;
  $("frame-view").hidden = false;
  $("frame-image").src = url;
  $("frame-label").textContent = `frame ${f} (${(f / videoFps()).toFixed(2)} s)`;
  $("frame-download").href = `${url}?download=true`;
  $("frame-download").download = `longshot-${current.id}-frame${f}.png`;
  const video = $("video");
  if (video && video.tagName === "VIDEO") {
    video.pause();
    video.currentTime = (f + 0.5) / videoFps();
  }
  placePlayhead(f);
}

function videoFps() {
  return current && (current.kind === "image-to-video" || current.kind === "text-to-video") && current.spec.fps
    ? current.spec.fps : settings.fps;
}

function movePlayhead() {
  const video = $("video");
  if (video && video.tagName === "VIDEO") placePlayhead(Math.floor(video.currentTime * videoFps()));
}

function placePlayhead(f) {
  const frames = +$("timeline").dataset.frames;
  const head = $("playhead");
  head.hidden = false;
  head.style.left = `${Math.min(f, frames - 1) / frames * 100}%`;
}

// ---- Redraw -------------------------------------------------------------------------------------------------------

async function redraw() {
  $("redraw-error").textContent = "";
  const from = parseInt($("redraw-from").value, 10), to = parseInt($("redraw-to").value, 10);
  const prompt = $("redraw-story").value.trim();
  const seed = $("redraw-seed").value === "" ? null : parseInt($("redraw-seed").value, 10);
  try {
    const job = await api(`/api/jobs/${current.id}/redraw`, {
      from, to, story: prompt ? `0-: ${prompt}` : null, seed,
    });
    await refreshJobs();
    show(job);
  } catch (e) { $("redraw-error").textContent = e.message; }
}

// Old and new frames of the redrawn range, side by side.
function compare(job) {
  const lo = job.range ? job.range.lo : job.spec.from, hi = job.range ? job.range.hi : job.spec.to;
  const step = Math.max(1, Math.floor((hi - lo) / 8));
  $("compare").hidden = false;
  $("compare-title").textContent = job.range
    ? `Frames ${lo}-${hi} redrawn (${job.spec.from}-${job.spec.to} asked, grown to whole units): old and new`
    : `Frames ${lo}-${hi} asked: old and new`;
  const [old, neu] = [$("compare-old"), $("compare-new")];
  old.innerHTML = "<div>before</div>"; neu.innerHTML = "<div>after</div>";
  for (let f = lo; f < hi; f += step) {
    for (const [box, id] of [[old, job.spec.parent], [neu, job.id]]) {
      const img = element("img", { src: `/api/jobs/${id}/frames/${f}`, title: `frame ${f}` });
      img.dataset.frame = f;
      box.appendChild(img);
    }
  }
}

init();
