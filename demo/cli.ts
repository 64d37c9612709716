// Entry point of the demo composer: `node demo/cli.ts [flags]`, or `npm start -- demo-composer [flags]`
// through the sidecar's CLI (which calls main()). Prints exactly one line
//   {"event":"listening","url":"http://127.0.0.1:PORT","pid":PID}
// on stdout once it listens (logs are pino JSON lines on stderr), runs until SIGTERM/SIGINT (or stdin EOF
// with --exit-on-stdin-close), stops every child, and returns 0. Bad flags: one line on stderr, exit code 2.
import pino from 'pino';
import { startComposer } from './composer.ts';
import { HELP_TEXT, parseOptions, UsageError, type DemoOptions } from './options.ts';

function waitForStop(options: DemoOptions): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(why);
      // A second signal while shutting down forces the exit.
      const force = (): void => process.exit(1);
      process.once('SIGTERM', force);
      process.once('SIGINT', force);
    };
    const onTerm = (): void => done('SIGTERM');
    const onInt = (): void => done('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    if (options.exitOnStdinClose) {
      process.stdin.on('data', () => undefined);
      process.stdin.once('end', () => done('stdin closed'));
      process.stdin.resume();
    }
  });
}

export async function main(argv: string[]): Promise<number> {
  let options: DemoOptions;
  try {
    const parsed = parseOptions(argv);
    if (parsed.help) {
      process.stdout.write(`${HELP_TEXT}\n`);
      return 0;
    }
    options = parsed.options;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`demo-composer: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = pino({ name: 'demo-composer', level: options.logLevel }, pino.destination({ dest: 2, sync: true }));
  const onRejection = (reason: unknown): void => log.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
  process.on('unhandledRejection', onRejection);
  let composer;
  try {
    composer = await startComposer(options, log);
  } catch (err) {
    process.stderr.write(`demo-composer: ${err instanceof Error ? err.message : String(err)}\n`);
    process.off('unhandledRejection', onRejection);
    return 1;
  }
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: composer.url, pid: process.pid })}\n`);
  log.info({ url: composer.url, profile: options.profile, api_shape: options.apiShape, config_path: composer.context.config.path }, 'demo composer listening');
  const why = await waitForStop(options);
  log.info({ reason: why }, 'shutting down');
  await composer.close();
  if (options.exitOnStdinClose) process.stdin.destroy();
  process.off('unhandledRejection', onRejection);
  log.info('stopped');
  return 0;
}

if (import.meta.main) {
  process.exit(await main(process.argv.slice(2)));
}
