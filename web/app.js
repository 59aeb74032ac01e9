// The page: picks photos, sends them to the worker, shows each result with
// its masks outlined, lets the person add and remove boxes and change the
// fill, and saves the results. Nothing here talks to the network.

import { zipStore } from './zip.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const MIME = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', tiff: 'image/tiff', bmp: 'image/bmp' };
const REMOVED_NAMES = {
  exif: 'EXIF (camera, settings)',
  gps: 'GPS position',
  serial: 'serial numbers / owner name',
  maker_note: 'maker notes',
  datetime: 'dates and times',
  thumbnail: 'embedded thumbnails',
  xmp: 'XMP',
  iptc: 'IPTC (captions, names)',
  comment: 'comments',
  other: 'other non-image data',
};

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;
let queue = Promise.resolve();
const photos = [];
let current = null;

function setStatus(text, state) {
  const s = $('status');
  s.textContent = text;
  if (state) s.dataset.state = state;
}

worker.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === 'ready') {
    setStatus('Ready. Your photos stay on this device.', 'ready');
    $('files').disabled = false;
    return;
  }
  if (msg.type === 'fatal') {
    setStatus(`Cannot start: ${msg.message}`, 'fatal');
    return;
  }
  const p = pending.get(msg.id);
  pending.delete(msg.id);
  if (msg.type === 'done') p.resolve(msg);
  else p.reject(new Error(msg.message));
};
worker.onerror = (e) => setStatus(`Cannot start the worker: ${e.message || 'unknown error'}`, 'fatal');

// One request at a time, in order.
function call(msg) {
  const run = () => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ ...msg, id });
  });
  const p = queue.then(run, run);
  queue = p.catch(() => {});
  return p;
}

function settings(photo) {
  return { mode: $('mode').value, grow: Number($('grow').value), seed: photo.seed };
}

function freshSeed() {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return a[0] * 2 ** 21 + (a[1] >>> 11); // below 2^53
}

function outName(photo) {
  const dot = photo.name.lastIndexOf('.');
  const stem = dot > 0 ? photo.name.slice(0, dot) : photo.name;
  const ext = { jpeg: 'jpg', png: 'png', webp: 'webp', tiff: 'tif', bmp: 'bmp' }[photo.report.format];
  return `${stem}-blindfold.${ext}`;
}

function progress() {
  const done = photos.filter((p) => p.state === 'done' || p.state === 'error').length;
  $('progress').textContent = photos.length ? `${done} of ${photos.length} photos processed.` : '';
  $('zip').disabled = !photos.some((p) => p.state === 'done');
}

function renderItem(photo) {
  const li = photo.li;
  li.replaceChildren();
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = photo.name;
  b.disabled = photo.state !== 'done';
  b.onclick = () => select(photo);
  const s = document.createElement('span');
  s.className = `state ${photo.state}`;
  s.textContent = {
    waiting: ' waiting',
    working: ' working…',
    done: ` ${photo.report ? photo.report.faces.length : 0} covered`,
    error: ` not processed: ${photo.error}`,
  }[photo.state];
  li.append(b, s);
  li.setAttribute('aria-current', photo === current ? 'true' : 'false');
  li.dataset.state = photo.state;
  if (photo.report) {
    li.dataset.ms = photo.ms.toFixed(1);
    li.dataset.timings = JSON.stringify(photo.report.timings);
  }
  progress();
}

function setResult(photo, msg) {
  photo.report = msg.report;
  photo.bytes = msg.bytes;
  photo.boxes = msg.report.faces.map((f) => ({ ...f.bbox, score: f.score }));
  if (photo.url) URL.revokeObjectURL(photo.url);
  photo.url = URL.createObjectURL(new Blob([msg.bytes], { type: MIME[msg.report.format] }));
  photo.ms = msg.ms;
  photo.state = 'done';
  photo.error = null;
}

async function addFiles(files) {
  const fresh = [];
  for (const file of files) {
    const li = document.createElement('li');
    $('list').append(li);
    const photo = { name: file.name, li, seed: freshSeed(), state: 'waiting' };
    photos.push(photo);
    fresh.push([photo, file]);
    renderItem(photo);
  }
  for (const [photo, file] of fresh) {
    photo.input = await file.arrayBuffer();
    photo.state = 'working';
    renderItem(photo);
    try {
      const msg = await call({ type: 'process', bytes: photo.input, settings: settings(photo) });
      setResult(photo, msg);
      if (!current) select(photo);
    } catch (e) {
      photo.state = 'error';
      photo.error = e.message;
    }
    renderItem(photo);
  }
}

async function rerun(photo) {
  photo.state = 'working';
  renderItem(photo);
  try {
    const msg = await call({ type: 'redact', bytes: photo.input, boxes: photo.boxes, settings: settings(photo) });
    setResult(photo, msg);
  } catch (e) {
    photo.state = 'error';
    photo.error = e.message;
  }
  renderItem(photo);
  if (photo === current) show(photo);
}

function select(photo) {
  const old = current;
  current = photo;
  if (old) renderItem(old);
  renderItem(photo);
  $('editor').hidden = false;
  show(photo);
}

function show(photo) {
  const r = photo.report;
  $('editor-name').textContent = photo.name;
  $('result').src = photo.url;
  $('result').dataset.state = photo.state;
  const svg = $('overlay');
  svg.setAttribute('viewBox', `0 0 ${r.width} ${r.height}`);
  svg.replaceChildren();
  r.faces.forEach((face, i) => {
    const m = face.mask.bbox;
    const el = document.createElementNS(SVG, face.mask.shape === 'rect' ? 'rect' : 'ellipse');
    if (face.mask.shape === 'rect') {
      el.setAttribute('x', m.x0); el.setAttribute('y', m.y0);
      el.setAttribute('width', m.x1 - m.x0); el.setAttribute('height', m.y1 - m.y0);
    } else {
      el.setAttribute('cx', (m.x0 + m.x1) / 2); el.setAttribute('cy', (m.y0 + m.y1) / 2);
      el.setAttribute('rx', (m.x1 - m.x0) / 2); el.setAttribute('ry', (m.y1 - m.y0) / 2);
    }
    el.setAttribute('class', 'mask');
    el.setAttribute('tabindex', '0');
    el.setAttribute('role', 'button');
    el.setAttribute('aria-label', `Covered area ${i + 1} at ${Math.round(m.x0)}, ${Math.round(m.y0)}: press Delete or Enter to uncover`);
    const remove = (e) => {
      e.preventDefault();
      e.stopPropagation();
      photo.boxes.splice(i, 1);
      rerun(photo);
    };
    el.addEventListener('pointerdown', (e) => e.stopPropagation());
    el.addEventListener('click', remove);
    el.addEventListener('keydown', (e) => {
      if (['Delete', 'Backspace', 'Enter', ' '].includes(e.key)) remove(e);
    });
    svg.append(el);
  });
  const n = r.faces.length;
  $('faces').textContent = `${n} area${n === 1 ? '' : 's'} covered (${r.width}×${r.height} ${r.format.toUpperCase()}, ${Math.round(photo.ms)} ms).`;
  const removed = r.metadata_removed.filter((k) => k !== 'icc');
  const kept = r.metadata_kept.includes('icc') ? ' The colour profile was kept.' : '';
  $('removed').textContent = removed.length
    ? `Removed from the file: ${removed.map((k) => REMOVED_NAMES[k] || k).join(', ')}.${kept}`
    : `The file carried no identifying metadata.${kept}`;
}

// Drawing a box on the photo.
function toImage(svg, e) {
  const pt = svg.createSVGPoint();
  pt.x = e.clientX;
  pt.y = e.clientY;
  return pt.matrixTransform(svg.getScreenCTM().inverse());
}

let drag = null;
$('overlay').addEventListener('pointerdown', (e) => {
  if (!current || current.state !== 'done') return;
  const svg = $('overlay');
  const p = toImage(svg, e);
  const el = document.createElementNS(SVG, 'rect');
  el.setAttribute('class', 'drawing');
  svg.append(el);
  drag = { x: p.x, y: p.y, el };
  svg.setPointerCapture(e.pointerId);
  e.preventDefault();
});
$('overlay').addEventListener('pointermove', (e) => {
  if (!drag) return;
  const p = toImage($('overlay'), e);
  drag.el.setAttribute('x', Math.min(drag.x, p.x));
  drag.el.setAttribute('y', Math.min(drag.y, p.y));
  drag.el.setAttribute('width', Math.abs(p.x - drag.x));
  drag.el.setAttribute('height', Math.abs(p.y - drag.y));
});
$('overlay').addEventListener('pointerup', (e) => {
  if (!drag) return;
  const p = toImage($('overlay'), e);
  const d = drag;
  drag = null;
  d.el.remove();
  addBox(d.x, d.y, p.x, p.y);
});

function addBox(xa, ya, xb, yb) {
  const r = current.report;
  const x0 = Math.max(0, Math.min(xa, xb));
  const y0 = Math.max(0, Math.min(ya, yb));
  const x1 = Math.min(r.width, Math.max(xa, xb));
  const y1 = Math.min(r.height, Math.max(ya, yb));
  if (x1 - x0 < 2 || y1 - y0 < 2) return;
  current.boxes.push({ x0, y0, x1, y1 });
  rerun(current);
}

$('addbox').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!current) return;
  const f = new FormData(e.target);
  const [x, y, w, h] = ['x', 'y', 'w', 'h'].map((k) => Number(f.get(k)));
  addBox(x, y, x + w, y + h);
});

function onSettings() {
  const g = Number($('grow').value);
  if (!(g >= 0 && g <= 4)) return;
  for (const p of photos) if (p.state === 'done') rerun(p);
}
$('mode').addEventListener('change', onSettings);
$('grow').addEventListener('change', onSettings);

function save(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

$('download').addEventListener('click', () => {
  if (current && current.state === 'done') save(outName(current), new Blob([current.bytes], { type: MIME[current.report.format] }));
});

$('zip').addEventListener('click', async () => {
  await queue;
  const done = photos.filter((p) => p.state === 'done');
  const used = new Set();
  const files = done.map((p) => {
    let name = outName(p);
    for (let k = 2; used.has(name); k++) name = name.replace(/(\.\w+)$/, `-${k}$1`);
    used.add(name);
    return { name, bytes: p.bytes };
  });
  save('blindfold.zip', zipStore(files));
});

$('files').addEventListener('change', (e) => {
  addFiles(Array.from(e.target.files));
  e.target.value = '';
});

const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (!$('files').disabled) addFiles(Array.from(e.dataTransfer.files));
});
