/**
 * The real sidecar in a process of its own, for the soak: `fork()`ed with `--expose-gc` and the sidecar's
 * flags as arguments. Over the IPC channel it says `{type:'ready', proxyUrl, metricsUrl}` once listening,
 * answers `{type:'memory'}` with its memory (also the heap right after a full collection, which is what
 * a leak shows in), and shuts down in order on `{type:'stop'}`. Its log lines go to stdout.
 */
import { loadConfig } from '../../src/config/load.ts';
import { createLogger, flushLogger } from '../../src/log.ts';
import { startSidecar } from '../../src/main.ts';

const send = (msg: object): void => void process.send?.(msg);
const config = loadConfig(process.argv.slice(2), process.env);
const logger = createLogger({ level: config.logLevel });
const sidecar = await startSidecar(config, { logger, version: 'soak' });
send({ type: 'ready', proxyUrl: sidecar.proxyUrl, metricsUrl: sidecar.metricsUrl });

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (msg: { type?: string }) => {
  if (msg.type === 'memory') {
    const before = process.memoryUsage();
    gc?.();
    const after = process.memoryUsage();
    send({ type: 'memory', rss: before.rss, heapUsed: before.heapUsed, heapTotal: before.heapTotal, external: before.external, heapAfterGc: after.heapUsed, rssAfterGc: after.rss });
  } else if (msg.type === 'stop') {
    void sidecar.shutdown().then(() => {
      flushLogger(logger);
      process.exit(0);
    });
  }
});
