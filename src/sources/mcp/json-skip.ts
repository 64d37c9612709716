/**
 * The envelope scanner's skip of large values, in WebAssembly with SIMD (json-skip.c, built into
 * json-skip-wasm.ts by `npm run build:wasm`). JsonCursor (json-scan.ts) hands it a document from
 * {@link WASM_SKIP_MIN_BYTES} to {@link WASM_SKIP_MAX_BYTES} bytes; the answers are exactly those of the
 * cursor's own JavaScript skips (test/unit/json-skip.test.ts and the `json-skip` fuzz targets hold the
 * two against each other and against JSON.parse).
 *
 * Why: on text with an escape every few bytes (a tool's JSON answer quoted as text) a loop over bytes
 * turns its branch every few bytes, and costs 5 ns per byte on this kind of machine; the module reads a
 * string 16 bytes at a time and finds the escaped bytes by arithmetic on the masks.
 *
 * One module instance holds one document at a time: the cursor that copied the document in last (its
 * owner). Everything is synchronous, so a cursor that is not the owner copies its document again.
 * Memory grows to the largest document copied and is never given back: at most
 * {@link WASM_SKIP_MAX_BYTES} plus the module's 128 KiB.
 */

import { JSON_SKIP_WASM } from './json-skip-wasm.ts';

/** Smallest document the module reads. At 305 bytes (a tools/call request) the two skips cost the same within noise; at 1.7 KB the module takes half the time. */
export const WASM_SKIP_MIN_BYTES = 1024;
/** Largest document the module reads: what its memory may grow to. Larger ones stay on the JavaScript skips. */
export const WASM_SKIP_MAX_BYTES = 4 * 1024 * 1024;
/** Zero bytes after the document: a 16-byte load or a look past its end reads zeros. */
const PAD = 64;
const PAGE = 65_536;

interface SkipExports {
  readonly memory: WebAssembly.Memory;
  doc_base(): number;
  string_end(i: number, n: number): number;
  skip_value(i: number, n: number): number;
}

function isSkipExports(x: WebAssembly.Exports): x is WebAssembly.Exports & SkipExports {
  return x.memory instanceof WebAssembly.Memory && typeof x.doc_base === 'function' && typeof x.string_end === 'function' && typeof x.skip_value === 'function';
}

/** The instance, or undefined where this Node has no WebAssembly SIMD (the JavaScript skips then do it all). */
function instantiate(): SkipExports | undefined {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(JSON_SKIP_WASM, 'base64')));
    return isSkipExports(instance.exports) ? instance.exports : undefined;
  } catch {
    return undefined;
  }
}

const wasm = instantiate();
const base = wasm === undefined ? 0 : wasm.doc_base();
let view = wasm === undefined ? new Uint8Array(0) : new Uint8Array(wasm.memory.buffer);
let owner: object | undefined;
let loaded: Uint8Array | undefined;

/** The module is there and takes a document of `n` bytes. */
export function wasmSkipFits(n: number): boolean {
  return wasm !== undefined && n >= WASM_SKIP_MIN_BYTES && n <= WASM_SKIP_MAX_BYTES;
}

function load(exports: SkipExports, who: object, b: Uint8Array): void {
  const need = base + b.length + PAD;
  const have = exports.memory.buffer.byteLength;
  if (need > have) exports.memory.grow(Math.ceil((need - have) / PAGE));
  // A grown memory has a new buffer (the old one is detached).
  if (view.buffer !== exports.memory.buffer) view = new Uint8Array(exports.memory.buffer);
  view.set(b, base);
  view.fill(0, base + b.length, base + b.length + PAD);
  owner = who;
  loaded = b;
}

/**
 * `who`'s document `b` (for which {@link wasmSkipFits} holds), copied in unless `who` copied this same
 * `b` last and has not {@link releaseWasmSkip released} it since (a reader must release a document whose
 * bytes it changes, as JsonCursor does on every reset).
 */
function exportsFor(who: object, b: Uint8Array): SkipExports {
  if (wasm === undefined) throw new Error('json-skip: no WebAssembly module (check wasmSkipFits first)');
  if (owner !== who || loaded !== b) load(wasm, who, b);
  return wasm;
}

/** `who` is done with its document (it starts another): the next call copies again. */
export function releaseWasmSkip(who: object): void {
  if (owner === who) {
    owner = undefined;
    loaded = undefined;
  }
}

/** `i` just past an opening quote in `b`: the index of the closing quote, or -1 (a syntax error). */
export function wasmStringEnd(who: object, b: Uint8Array, i: number): number {
  return exportsFor(who, b).string_end(i, b.length);
}

/** One value from `i` (after optional whitespace) in `b`, validated: the index past it, -1 (a syntax error) or -2 (nested deeper than 512). */
export function wasmSkipValue(who: object, b: Uint8Array, i: number): number {
  return exportsFor(who, b).skip_value(i, b.length);
}
