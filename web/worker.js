// The Web Worker: loads the WebAssembly core and the model (checked by
// sha256 before use), then anonymises photos on request, so the page never
// freezes. Messages in: {type: 'process' | 'redact', id, bytes, boxes?,
// settings}. Messages out: {type: 'ready'} or {type: 'fatal', message} once,
// then {type: 'done', id, bytes, report, ms} or {type: 'error', id, message}.

import init, { Engine, preparedModelSha256, redact } from './pkg/blindfold_wasm.js';

const MODEL_URL = 'model/centerface-prepared.onnx';
let engine = null;

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function start() {
  await init({ module_or_path: new URL('./pkg/blindfold_wasm_bg.wasm', import.meta.url) });
  const want = preparedModelSha256();
  let response;
  try {
    response = await fetch(MODEL_URL);
  } catch (e) {
    throw new Error(`the face-finding model (${MODEL_URL}) could not be loaded: ${e.message}`);
  }
  if (!response.ok) {
    throw new Error(`the face-finding model (${MODEL_URL}) is missing on this site (HTTP ${response.status})`);
  }
  const model = await response.arrayBuffer();
  if (!crypto.subtle) {
    throw new Error('this browser cannot check the model (serve the page over HTTPS or from localhost)');
  }
  const got = hex(await crypto.subtle.digest('SHA-256', model));
  if (got !== want) {
    throw new Error(`the face-finding model on this site is not the expected one (sha256 ${got}, expected ${want}); refusing to use it`);
  }
  engine = new Engine(new Uint8Array(model));
  return got;
}

const ready = start().then(
  (sha) => postMessage({ type: 'ready', sha }),
  (e) => {
    postMessage({ type: 'fatal', message: String(e.message || e) });
    throw e;
  },
);

onmessage = async (event) => {
  const msg = event.data;
  try {
    await ready;
  } catch {
    return;
  }
  const t0 = performance.now();
  try {
    const input = new Uint8Array(msg.bytes);
    const settings = JSON.stringify(msg.settings);
    const out = msg.type === 'process'
      ? engine.process(input, settings)
      : redact(input, JSON.stringify(msg.boxes), settings);
    const bytes = out.bytes;
    const report = JSON.parse(out.report);
    out.free();
    postMessage({ type: 'done', id: msg.id, bytes, report, ms: performance.now() - t0 }, [bytes.buffer]);
  } catch (e) {
    postMessage({ type: 'error', id: msg.id, message: String(e.message || e) });
  }
};
