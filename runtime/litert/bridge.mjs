// edgeval LiteRT bridge: runs .tflite models in Google's LiteRT WebAssembly
// build (@litertjs/core) for the Go package runtime/litert.
//
// Usage: node bridge.mjs <node_modules directory>
//
// Protocol (both directions, on stdin/stdout): a frame is
//   u32 LE header length | u32 LE data length | header (UTF-8 JSON) | data
// The header carries only metadata (names, dtypes, shapes, timings); tensor
// and model bytes travel raw in the data part, little-endian, concatenated in
// order. Requests: {op:"load", signature, batch} + model bytes;
// {op:"run"} + input bytes; {op:"unload"} (frees the model, keeping the
// process for the next one); {op:"quit"}. Every reply has ok:true or
// ok:false with error and kind ("model", "signature", "runtime", or "fatal"
// when the WASM module aborted and the process must not be used again).
// The bridge reads every byte of a request before it replies (the Go side
// relies on that: it splices tensors into the pipe without copying them).
//
// LiteRT's JavaScript Tensor class accepts only float32/int32/uint8, so this
// script drives the WASM bindings (liteRtWasm) directly: it creates host
// tensor buffers with the model's own element type (int8, int16, bool, ...),
// reads inputs from stdin straight into them, and writes outputs to stdout
// straight from WASM memory.
//
// Everything LiteRT prints (printErr, console.*) goes to stderr and is
// captured; a line containing "ERROR" during a request fails the request,
// because LiteRT reports, for example, unresolved custom ops that way and
// still returns (garbage) outputs.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const nodeModules = process.argv[2];
if (!nodeModules) {
  process.stderr.write('edgeval bridge: usage: node bridge.mjs <node_modules dir>\n');
  process.exit(2);
}
const coreDir = path.join(nodeModules, '@litertjs', 'core');

// ---- output capture: nothing but frames may reach stdout ----
let captured = [];
function log(text) {
  const s = String(text);
  captured.push(s);
  process.stderr.write(s.endsWith('\n') ? s : s + '\n');
}
const fmt = (args) => args.map((a) => (a instanceof Error ? a.stack || a.message : typeof a === 'string' ? a : String(a))).join(' ');
console.log = console.info = console.debug = console.warn = console.error = (...args) => log(fmt(args));

// ---- shims for LiteRT.js under Node ----
globalThis.self = globalThis;
const requireFromCore = createRequire(path.join(coreDir, 'package.json'));
globalThis.importScripts = (url) => {
  const file = String(url).startsWith('file:') ? new URL(url).pathname : String(url);
  const code = fs.readFileSync(file, 'utf8');
  const mod = { exports: {} };
  // The Emscripten glue is CommonJS; evaluate it with require in scope.
  new Function('require', 'module', 'exports', '__dirname', '__filename', code)(
    requireFromCore, mod, mod.exports, path.dirname(file), file);
  self.ModuleFactory = mod.exports;
};
let wasmFile = '';
self.Module = { print: log, printErr: log };

// ---- frames ----
function writeAll(bufs) {
  // writevSync with retries on partial writes and EAGAIN.
  let list = bufs.filter((b) => b.length > 0);
  while (list.length > 0) {
    let n;
    try {
      n = fs.writevSync(1, list);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      throw e;
    }
    while (n > 0 && list.length > 0) {
      if (n >= list[0].length) {
        n -= list[0].length;
        list.shift();
      } else {
        list[0] = list[0].subarray(n);
        n = 0;
      }
    }
  }
}

// reply sends header h followed by the data chunks (views, for example into
// WASM memory) as one frame, with one writev system call when the pipe has
// room.
function reply(h, chunks = []) {
  replyRaw(JSON.stringify(h), chunks);
}

// replyRaw is reply with the header already serialized.
function replyRaw(header, chunks) {
  const hb = Buffer.from(header, 'utf8');
  let n = 0;
  for (const c of chunks) n += c.length;
  const pre = Buffer.allocUnsafe(8);
  pre.writeUInt32LE(hb.length, 0);
  pre.writeUInt32LE(n, 4);
  writeAll([pre, hb, ...chunks]);
}

// HarnessError carries the kind of failure to report.
class HarnessError extends Error {
  constructor(kind, msg) {
    super(msg);
    this.kind = kind;
  }
}

// errorLines returns the distinct captured lines that contain ERROR (the
// first few), or '' when there are none.
function errorLines() {
  const lines = [...new Set(captured.flatMap((c) => c.split('\n')).filter((l) => l.includes('ERROR')))];
  if (lines.length === 0) return '';
  const shown = lines.slice(0, 6).join('\n');
  return lines.length > 6 ? `${shown}\n(${lines.length - 6} more ERROR lines)` : shown;
}

function fail(kind, err) {
  let msg = err instanceof Error ? err.message : String(err);
  if (err instanceof HarnessError) kind = err.kind;
  // An Emscripten abort or a WASM trap leaves the module unusable.
  if (err instanceof WebAssembly.RuntimeError || /Aborted\(/.test(msg)) kind = 'fatal';
  const logged = errorLines();
  if (logged && !msg.includes(logged)) msg = msg ? `${msg}\n${logged}` : logged;
  reply({ ok: false, kind, error: msg });
}

// ---- LiteRT ----
const version = JSON.parse(fs.readFileSync(path.join(coreDir, 'package.json'), 'utf8')).version;
const DTYPES = { 1: 'float32', 2: 'int32', 3: 'uint8', 4: 'int64', 6: 'bool', 7: 'int16', 9: 'int8', 10: 'float16', 11: 'float64' };

let liteRt, wasm, env;
let session = null; // {model, compiled, sig, inputs:[{buf, ptrBytes, bytes}], outputs:[...]}

async function init() {
  const core = await import(pathToFileURL(path.join(coreDir, 'dist', 'index.js')).href);
  const origImport = globalThis.importScripts;
  globalThis.importScripts = (url) => {
    wasmFile = path.basename(String(url)).replace(/\.js$/, '.wasm');
    origImport(url);
  };
  liteRt = await core.loadLiteRt(path.join(coreDir, 'wasm') + '/');
  wasm = liteRt.liteRtWasm;
  env = liteRt.getDefaultEnvironment();
}

const WIDTHS = { float32: 4, int32: 4, uint8: 1, int64: 8, bool: 1, int16: 2, int8: 1, float16: 2, float64: 8 };
function widthOf(dtype) {
  return WIDTHS[dtype];
}

function vecToArray(v) {
  const a = [];
  for (let i = 0; i < v.size(); i++) a.push(v.get(i));
  v.delete();
  return a;
}

function describe(tt, label = 'tensor') {
  const et = tt.elementType();
  const layout = tt.layout();
  const dims = vecToArray(layout.dimensions());
  layout.delete();
  const dtype = DTYPES[et.value];
  if (!dtype) {
    const name = Object.keys(wasm.ElementType || {}).find((k) => wasm.ElementType[k]?.value === et.value);
    throw new HarnessError('model', `${label} has element type ${name || et.value}, which the harness cannot exchange`);
  }
  const width = wasm.liteRtGetByteWidth(et);
  return { dtype, shape: dims, width, et };
}

function closeSession() {
  if (!session) return;
  for (const t of session.inputs) t.buf.delete();
  session.compiled.delete();
  session.model.delete();
  wasm._free(session.ptr);
  session = null;
}

async function load(h, data) {
  closeSession();
  captured = [];
  const ptr = wasm._malloc(data.length);
  wasm.HEAPU8.set(data, ptr);
  let model;
  try {
    model = wasm.loadModel(env.liteRtEnvironment, ptr, data.length);
  } catch (e) {
    wasm._free(ptr);
    return fail('model', e);
  }
  try {
    const n = model.getNumSignatures();
    const keys = [];
    for (let i = 0; i < n; i++) {
      const s = model.getSignature(i);
      keys.push(s.key());
      s.delete();
    }
    let index = 0;
    if (h.signature) {
      index = keys.indexOf(h.signature);
      if (index < 0) {
        model.delete();
        wasm._free(ptr);
        return fail('signature', `model has no signature ${JSON.stringify(h.signature)} (it has ${keys.map((k) => JSON.stringify(k)).join(', ')})`);
      }
    }
    const opts = {
      environment: env,
      accelerator: 'wasm',
      cpuOptions: { numThreads: wasm.getThreadCount() },
      gpuOptions: {},
      webNNOptions: {},
    };
    const compiled = await wasm.compileModel(env.liteRtEnvironment, model, opts);
    const sig = model.getSignature(index);
    const inNames = vecToArray(sig.inputNames());
    const outNames = vecToArray(sig.outputNames());
    sig.delete();
    const batch = h.batch > 0 ? h.batch : 1;
    const inputs = [];
    for (let i = 0; i < inNames.length; i++) {
      const tt = model.getInputTensorType(index, i);
      const d = describe(tt, `input ${i} ${JSON.stringify(inNames[i])}`);
      tt.delete();
      const declared = d.shape.slice();
      // A dimension still dynamic after the Go side pinned the model runs
      // with the batch size (first axis) or 1.
      const shape = d.shape.map((x, k) => (x < 0 ? (k === 0 ? batch : 1) : x));
      const vec = new wasm.VectorInt32();
      for (const x of shape) vec.push_back(x);
      const layout = wasm.LiteRtLayout.create(vec);
      vec.delete();
      const rtt = wasm.LiteRtRankedTensorType.create(d.et, layout);
      layout.delete();
      const bytes = shape.reduce((a, b) => a * b, 1) * d.width;
      const buf = wasm.LiteRtTensorBuffer.createManaged(env.liteRtEnvironment, wasm.LiteRtTensorBufferType.HOST_MEMORY, rtt, bytes);
      rtt.delete();
      inputs.push({ name: inNames[i], dtype: d.dtype, shape, declared, bytes, buf });
    }
    const outputs = [];
    for (let i = 0; i < outNames.length; i++) {
      const tt = model.getOutputTensorType(index, i);
      const d = describe(tt, `output ${i} ${JSON.stringify(outNames[i])}`);
      tt.delete();
      const shape = d.shape.map((x, k) => (x < 0 ? (k === 0 ? batch : 1) : x));
      outputs.push({ name: outNames[i], dtype: d.dtype, shape, declared: d.shape });
    }
    // Outputs of fully static shape are described once: a run then only
    // checks each buffer's byte size.
    const outStatic = outputs.map((o) => (o.declared.every((x) => x >= 0) ? o.shape.reduce((a, b) => a * b, 1) * widthOf(o.dtype) : -1));
    const outMeta = outputs.map(({ dtype, shape }) => ({ dtype, shape }));
    session = { model, compiled, ptr, index, inputs, outputs, outStatic, outMeta, outMetaJSON: JSON.stringify(outMeta) };
    if (errorLines()) {
      closeSession();
      return fail('runtime', '');
    }
    reply({
      ok: true,
      signatures: keys,
      signature: keys[index],
      inputs: inputs.map(({ name, dtype, shape, declared }) => ({ name, dtype, shape, declared })),
      outputs,
      threads: wasm.getThreadCount(),
    });
  } catch (e) {
    closeSession();
    return fail('runtime', e);
  }
}

// run reads the request's dlen data bytes from stdin straight into the
// input tensor buffers in WASM memory, invokes, and replies.
function run(dlen, recvStart) {
  if (!session) {
    discard(dlen);
    return fail('runtime', 'no model loaded');
  }
  captured = [];
  const L = wasm.LiteRtTensorBufferLockMode;
  let want = 0;
  for (const t of session.inputs) want += t.bytes;
  if (dlen !== want) {
    discard(dlen);
    return fail('runtime', `run: got ${dlen} input bytes, want ${want}`);
  }
  const bufs = [];
  for (const t of session.inputs) {
    const p = t.buf.lock(L.WRITE);
    try {
      readFull(wasm.HEAPU8, p, t.bytes);
    } finally {
      t.buf.unlock();
    }
    bufs.push(t.buf);
  }
  let outBufs;
  const t0 = process.hrtime.bigint();
  try {
    outBufs = session.compiled.run(session.index, bufs);
  } catch (e) {
    return fail('runtime', e);
  }
  const t1 = process.hrtime.bigint();
  try {
    const meta = [];
    const chunks = [];
    let same = outBufs.length === session.outStatic.length;
    for (let i = 0; i < outBufs.length; i++) {
      const ob = outBufs[i];
      let size = same ? ob.packedSize() : -1;
      if (size >= 0 && size === session.outStatic[i]) {
        meta.push(session.outMeta[i]);
      } else {
        same = false;
        const tt = ob.tensorType();
        const d = describe(tt, `output ${i}`);
        tt.delete();
        size = d.shape.reduce((a, b) => a * b, 1) * d.width;
        meta.push({ dtype: d.dtype, shape: d.shape });
      }
      const p = ob.lock(L.READ);
      // A view into WASM memory, valid until the buffer is deleted after the
      // reply: the bytes go from WASM memory to the pipe with no copy here.
      chunks.push(wasm.HEAPU8.subarray(p, p + size));
      ob.unlock();
    }
    if (errorLines()) return fail('runtime', '');
    const outs = same ? session.outMetaJSON : JSON.stringify(meta);
    const invokeNs = Number(t1 - t0);
    const bridgeNs = Number(process.hrtime.bigint() - recvStart);
    replyRaw(`{"ok":true,"invoke_ns":${invokeNs},"bridge_ns":${bridgeNs},"outputs":${outs}}`, chunks);
  } catch (e) {
    return fail('runtime', e);
  } finally {
    for (const ob of outBufs) ob.delete();
  }
}

// ---- request loop ----
// The bridge serves one request at a time, so it reads stdin synchronously
// (no event-loop round trips, no intermediate chunks).

function readFull(buf, off, n) {
  while (n > 0) {
    let k;
    try {
      k = fs.readSync(0, buf, off, n, null);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      throw e;
    }
    if (k === 0) process.exit(0); // stdin closed: the Go side is done
    off += k;
    n -= k;
  }
}

let scratch = Buffer.allocUnsafe(1 << 16);
function readBytes(n) {
  if (scratch.length < n) scratch = Buffer.allocUnsafe(n);
  readFull(scratch, 0, n);
  return scratch.subarray(0, n);
}

function discard(n) {
  while (n > 0) {
    const k = Math.min(n, 1 << 20);
    readBytes(k);
    n -= k;
  }
}

try {
  await init();
} catch (e) {
  fail('runtime', e);
  process.exit(1);
}
reply({ ok: true, name: 'litert-wasm', version, wasm: wasmFile, threads: wasm.getThreadCount() });

const prefix = Buffer.allocUnsafe(8);
for (;;) {
  readFull(prefix, 0, 8);
  const start = process.hrtime.bigint();
  const hlen = prefix.readUInt32LE(0);
  const dlen = prefix.readUInt32LE(4);
  let h;
  try {
    h = JSON.parse(readBytes(hlen).toString('utf8'));
  } catch (e) {
    discard(dlen);
    fail('runtime', `malformed request header: ${e.message}`);
    continue;
  }
  try {
    switch (h.op) {
      case 'load': {
        // load copies the model into WASM memory before its first await.
        await load(h, readBytes(dlen));
        break;
      }
      case 'run':
        run(dlen, start);
        break;
      case 'unload':
        discard(dlen);
        closeSession();
        reply({ ok: true });
        break;
      case 'quit':
        closeSession();
        process.exit(0);
        break;
      default:
        discard(dlen);
        fail('runtime', `unknown op ${JSON.stringify(h.op)}`);
    }
  } catch (e) {
    fail('runtime', e);
  }
}
