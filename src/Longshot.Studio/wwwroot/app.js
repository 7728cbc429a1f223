// Longshot Studio: the storyline editor, the job list and the live view of one job. Plain browser JavaScript, no
// build step; the server's JSON API does the work.
"use strict";

const $ = (id) => document.getElementById(id);
let settings = null;
let current = null;       // the job shown
let source = null;        // its event stream

async function api(path, body) {
  const r = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error(data.error || r.statusText), { data });
  return data;
}

function option(select, value, label) {
  const o = document.createElement("option");
  o.value = value; o.textContent = label; select.appendChild(o);
}

async function init() {
  settings = await api("/api/settings");
  settings.schemes.forEach((s) => option($("scheme"), s, s));
  settings.samplers.forEach((s) => option($("sampler"), s, s));
  const storyModels = settings.models.filter((m) => m.kind === "story");
  for (const id of ["global", "local"]) storyModels.forEach((m) => option($(id), m.path ?? "", m.name));
  option($("model"), "", "Toonworld models (storyline)");
  settings.models.filter((m) => m.kind === "image-to-video").forEach((m) => option($("model"), m.path, m.name));
  $("model").addEventListener("change", pickModel);
  $("frames").max = settings.maxFrames;
  $("server-note").textContent = settings.ffmpeg ? "videos as MP4" : "videos as GIF (no ffmpeg on the server)";
  $("story").addEventListener("input", validateSoon);
  $("frames").addEventListener("input", validateSoon);
  $("start").addEventListener("click", start);
  $("redraw-start").addEventListener("click", redraw);
  await validate();
  await refreshJobs();
  setInterval(refreshJobs, 3000);
}

let timer = null;
function validateSoon() { clearTimeout(timer); timer = setTimeout(validate, 250); }

// The server parses the storyline with the command line's parser; its message names the line.
async function validate() {
  const frames = parseInt($("frames").value, 10);
  try {
    const r = await api("/api/storyline", { story: $("story").value, frames: Number.isFinite(frames) ? frames : null });
    $("story-error").textContent = "";
    drawRuler(r.segments, r.frames);
    return true;
  } catch (e) {
    $("story-error").textContent = e.data && e.data.line ? `line ${e.data.line}: ${e.message}` : e.message;
    drawRuler([], 1);
    return false;
  }
}

function drawRuler(segments, frames) {
  const ruler = $("ruler");
  ruler.innerHTML = "";
  segments.forEach((s, i) => {
    const d = document.createElement("div");
    const end = Math.min(s.end, frames);
    if (end <= s.start) return;
    d.style.flex = `${end - s.start} 0 0`;
    d.style.background = `hsl(${(i * 67) % 360} 45% 35%)`;
    d.title = `${s.start}-${end}: ${s.prompt}`;
    d.textContent = `${s.start}-${end} ${s.prompt}`;
    ruler.appendChild(d);
  });
}

// A published image-to-video model takes a first frame instead of a storyline; the form shows its settings.
function pickModel() {
  const m = settings.models.find((x) => (x.path ?? "") === $("model").value && x.kind === "image-to-video");
  $("i2v").hidden = !m;
  $("story-editor").hidden = !!m;
  document.querySelectorAll(".story-only").forEach((e) => { e.hidden = !!m; });
  $("model-family").textContent = m ? m.family : "";
  if (m) { $("frames").value = 14; $("steps").value = 25; }
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
    steps: parseInt($("steps").value, 10), guidance: parseFloat($("guidance").value), sampler: $("sampler").value,
    fillStart: parseFloat($("fill-start").value), fillEase: parseInt($("fill-ease").value, 10),
    seed: parseInt($("seed").value, 10), global: $("global").value || null, local: $("local").value || null,
  };
}

async function start() {
  $("submit-error").textContent = "";
  const imageToVideo = !$("i2v").hidden;
  if (!imageToVideo && !(await validate())) return;
  try {
    const job = await api("/api/jobs", imageToVideo ? await imageToVideoSpec() : spec());
    await refreshJobs();
    show(job);
  } catch (e) { $("submit-error").textContent = e.message; }
}

async function refreshJobs() {
  const jobs = await api("/api/jobs");
  const body = $("jobs").querySelector("tbody");
  body.innerHTML = "";
  for (const j of jobs) {
    const tr = document.createElement("tr");
    tr.dataset.id = j.id;
    if (current && current.id === j.id) tr.className = "selected";
    tr.innerHTML = `<td><a href="#" class="open"></a></td><td></td><td></td><td class="status"></td><td></td>`;
    tr.querySelector(".open").textContent = j.id;
    tr.children[1].textContent = j.kind;
    tr.children[2].textContent = j.spec.frames;
    tr.children[3].textContent = j.status + (j.error ? `: ${j.error}` : "");
    tr.querySelector(".open").addEventListener("click", (ev) => { ev.preventDefault(); show(j); });
    if (j.status === "queued" || j.status === "running") {
      const b = document.createElement("button");
      b.textContent = "cancel"; b.className = "cancel";
      b.addEventListener("click", () => api(`/api/jobs/${j.id}/cancel`, {}).then(refreshJobs));
      tr.children[4].appendChild(b);
    }
    body.appendChild(tr);
  }
}

// The live view: the plan's levels as strips, filled as keyframe previews and decoded frames arrive.
function show(job) {
  current = job;
  if (source) source.close();
  $("view").hidden = false;
  $("view-title").textContent = `Job ${job.id} (${job.kind}, ${job.spec.frames} frames)`;
  $("progress").textContent = job.status;
  $("result").innerHTML = "";
  $("strips").innerHTML = "";
  $("redraw").hidden = true;
  $("compare").hidden = true;
  source = new EventSource(`/api/jobs/${job.id}/events`);
  source.onmessage = (m) => onEvent(job, JSON.parse(m.data));
  source.onerror = () => { if (source) source.close(); };
  if (job.status === "done") showResult(job);
}

function onEvent(job, e) {
  if (e.type === "plan") drawStrips(e.levels);
  else if (e.type === "progress") {
    const eta = e.eta == null ? "" : `, about ${Math.round(e.eta)} s left`;
    $("progress").textContent = `level ${e.level}/${e.levels}: ${e.done} of ${e.total} units${eta}`;
  } else if (e.type === "keyframe") fill(e.index, `/api/jobs/${job.id}/keys/${e.index}`);
  else if (e.type === "frame") fill(e.index, `/api/jobs/${job.id}/frames/${e.index}`);
  else if (e.type === "range") job.range = e;
  else if (e.type === "status") {
    $("progress").textContent = e.status + (e.error ? `: ${e.error}` : "");
    if (e.status === "done") api(`/api/jobs/${job.id}`).then((j) => { j.range = job.range; showResult(j); });
    refreshJobs();
  } else if (e.type === "end" && source) source.close();
}

function drawStrips(levels) {
  const strips = $("strips");
  strips.innerHTML = "";
  levels.forEach((frames, k) => {
    const h = document.createElement("h3");
    h.textContent = `Level ${k + 1}: ${frames.length} frames shown` + (k === 0 ? " (global keyframes)" : "");
    const strip = document.createElement("div");
    strip.className = "strip"; strip.dataset.level = k + 1;
    for (const f of frames) {
      const slot = document.createElement("span");
      slot.className = "slot"; slot.dataset.frame = f; slot.title = `frame ${f}`;
      strip.appendChild(slot);
    }
    strips.append(h, strip);
  });
}

function fill(index, url) {
  for (const slot of document.querySelectorAll(`#strips [data-frame="${index}"]`)) {
    const img = document.createElement("img");
    img.src = url; img.alt = `frame ${index}`; img.dataset.frame = index; img.title = `frame ${index}`;
    slot.replaceWith(img);
  }
}

async function showResult(job) {
  const src = `/api/jobs/${job.id}/video`;
  const result = $("result");
  result.innerHTML = "";
  const media = job.video && job.video.endsWith(".mp4") ? document.createElement("video") : document.createElement("img");
  media.id = "video"; media.src = src;
  if (media.tagName === "VIDEO") { media.controls = true; media.autoplay = true; media.loop = true; media.muted = true; }
  const link = document.createElement("a");
  link.href = src; link.textContent = "download"; link.download = "";
  result.append(media, document.createElement("br"), link);
  if (!$("strips").children.length) {
    // Opened after the fact: the strips come from the saved frames.
    drawStrips([Array.from({ length: Math.min(48, job.spec.frames) }, (_, i) => Math.floor(i * job.spec.frames / Math.min(48, job.spec.frames)))]);
    document.querySelectorAll("#strips [data-frame]").forEach((s) => fill(+s.dataset.frame, `/api/jobs/${job.id}/frames/${s.dataset.frame}`));
  }
  if (job.kind === "generate" && job.spec.scheme === "dod") {
    $("redraw").hidden = false;
    $("redraw-to").max = job.spec.frames;
  }
  if (job.kind === "redraw") compare(job);
}

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
  const [old, neu] = [$("compare-old"), $("compare-new")];
  old.innerHTML = "<div>before</div>"; neu.innerHTML = "<div>after</div>";
  for (let f = lo; f < hi; f += step) {
    for (const [box, id] of [[old, job.spec.parent], [neu, job.id]]) {
      const img = document.createElement("img");
      img.src = `/api/jobs/${id}/frames/${f}`; img.title = `frame ${f}`; img.dataset.frame = f;
      box.appendChild(img);
    }
  }
}

init();
