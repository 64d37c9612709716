// @ts-check
/**
 * The real sidecar in a process of its own, for the soak: `fork()`ed with `--expose-gc`, the heap flags of
 * the memory budget under test, and `BUILD_DIR` (the sidecar compiled to JavaScript, as the image runs it)
 * followed by the sidecar's flags as arguments. Plain JavaScript on purpose: a TypeScript entry would load
 * Node's type stripper (amaro), ~17 MB of RSS the deployed sidecar does not have.
 *
 * Over the IPC channel it says `{type:'ready', proxyUrl, metricsUrl, heapSizeLimit}` once listening,
 * answers `{type:'memory'}` with its memory (also the heap right after a full collection, which is what a
 * leak shows in), and shuts down in order on `{type:'stop'}`. Its log lines go to stdout.
 */
import { getHeapStatistics } from 'node:v8';
import { pathToFileURL } from 'node:url';

const [buildDir, ...args] = process.argv.slice(2);
if (buildDir === undefined) throw new Error('usage: sidecar-child.js BUILD_DIR [sidecar flags…]');
const load = (/** @type {string} */ file) => import(pathToFileURL(`${buildDir}/${file}`).href);
const { loadConfig } = await load('config/load.js');
const { createLogger, flushLogger } = await load('log.js');
const { startSidecar } = await load('main.js');

/** @param {object} msg */
const send = (msg) => void process.send?.(msg);
const config = loadConfig(args, process.env);
const logger = createLogger({ level: config.logLevel });
const sidecar = await startSidecar(config, { logger, version: 'soak' });
send({ type: 'ready', proxyUrl: sidecar.proxyUrl, metricsUrl: sidecar.metricsUrl, heapSizeLimit: getHeapStatistics().heap_size_limit });

const gc = /** @type {{ gc?: () => void }} */ (globalThis).gc;
process.on('message', (/** @type {{ type?: string }} */ msg) => {
  if (msg.type === 'memory') {
    const before = process.memoryUsage();
    gc?.();
    const after = process.memoryUsage();
    send({
      type: 'memory',
      rss: before.rss,
      heapUsed: before.heapUsed,
      heapTotal: before.heapTotal,
      external: before.external,
      heapAfterGc: after.heapUsed,
      rssAfterGc: after.rss,
    });
  } else if (msg.type === 'stop') {
    void sidecar.shutdown().then(() => {
      flushLogger(logger);
      process.exit(0);
    });
  }
});
