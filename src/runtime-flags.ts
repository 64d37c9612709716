/**
 * V8 settings the sidecar's process runs with, applied by the CLI before any other module is evaluated
 * (imported first by cli.ts). Each is measured in docs/performance.md.
 *
 * - `--no-allocation-site-pretenuring`: V8 learns from its first scavenges which allocation sites produce
 *   long-lived objects and then allocates their objects directly in the old generation. A proxy under a
 *   burst of requests (many exchanges in flight while the code is still cold) teaches it that the
 *   per-request sites (request and response objects, header strings, parser state) live long; from then
 *   on every request's garbage goes to the old generation: scavenges promote ~10 MB each and take ~20 ms,
 *   mark-compacts follow (POST 4 KiB at 64 connections: 8.2 ms of GC pause per 1,000 requests instead of
 *   0.8, and 35 % fewer requests served). Per-request objects die young; without pretenuring they stay in
 *   the young generation, where collecting them is nearly free.
 *
 * Heap sizes cannot be set here: V8 reads `--max-old-space-size` and `--max-semi-space-size` only when the
 * isolate is created (measured on Node 24.21: set with `setFlagsFromString` after start, `heap_size_limit`
 * stays at its default). The memory budget (memory.ts) therefore gives them to a Node the CLI starts again.
 */
import { setFlagsFromString } from 'node:v8';

/** V8 flags set at start-up (also accepted on the command line or in NODE_OPTIONS). */
export const RUNTIME_V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];

for (const flag of RUNTIME_V8_FLAGS) setFlagsFromString(flag);
