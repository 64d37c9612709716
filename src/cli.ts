#!/usr/bin/env node
/**
 * The `mcp-composer-sidecar` command: parses flags and environment, starts the sidecar, and turns
 * signals into an orderly shutdown. Exit codes: 0 after a clean shutdown, 2 for invalid configuration,
 * 1 for anything else (a port that cannot be bound, an uncaught error).
 */
import './runtime-flags.ts';
import { ConfigError, ExitCodes, SidecarError } from './errors.ts';
import { renderHelp } from './config/help.ts';
import { loadConfig } from './config/load.ts';
import { createLogger, flushLogger, type Logger } from './log.ts';
import { startSidecar, type Sidecar } from './main.ts';
import { VERSION } from './version.ts';

function fail(message: string, code: number): number {
  process.stderr.write(`mcp-composer-sidecar: ${message}\n`);
  return code;
}

function installCrashHandlers(logger: Logger): void {
  const die = (kind: string) => (err: unknown) => {
    logger.fatal({ event: 'crash', kind, err: err instanceof Error ? { type: err.name, message: err.message, stack: err.stack } : String(err) }, 'uncaught error: exiting');
    flushLogger(logger);
    process.exit(ExitCodes.FAILURE);
  };
  process.on('uncaughtException', die('uncaughtException'));
  process.on('unhandledRejection', die('unhandledRejection'));
}

function installSignalHandlers(sidecar: Sidecar, logger: Logger): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ event: 'forced_exit', signal }, 'second signal: exiting now');
      flushLogger(logger);
      process.exit(ExitCodes.FAILURE);
    }
    signalled = true;
    logger.info({ event: 'signal', signal }, `received ${signal}`);
    sidecar.shutdown().then(
      () => {
        flushLogger(logger);
        process.exit(ExitCodes.OK);
      },
      (err: unknown) => {
        logger.error({ event: 'shutdown_failed', err: String(err) }, 'shutdown failed');
        flushLogger(logger);
        process.exit(ExitCodes.FAILURE);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Runs the command line; resolves with an exit code when the process should exit by itself. */
export async function run(argv: readonly string[]): Promise<number | undefined> {
  if (argv[0] === 'demo-composer') {
    // The demo composer ships with the source checkout only; the sidecar itself never imports it.
    const demo = new URL('../demo/cli.ts', import.meta.url);
    const mod = (await import(demo.href)) as { main(args: string[]): Promise<number> };
    return mod.main(argv.slice(1));
  }
  if (argv[0] === 'check') {
    // Probes the composer and exits; the sidecar itself is not started (src/check/).
    const { runCheck } = await import('./check/cli.ts');
    return runCheck(argv.slice(1), process.env);
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(renderHelp(VERSION));
    return ExitCodes.OK;
  }
  if (argv.includes('--version')) {
    process.stdout.write(`${VERSION}\n`);
    return ExitCodes.OK;
  }
  let config;
  try {
    config = loadConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) return fail(`${err.code}: ${err.message}`, ExitCodes.USAGE);
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, traceContext: config.otel.traces !== undefined });
  installCrashHandlers(logger);
  if (config.metricsAuth.kind === 'none') {
    if (config.metricsTls?.clientCa !== undefined) {
      logger.warn({ event: 'metrics_auth_disabled' }, 'metrics bearer token is OFF (--no-metrics-auth): /metrics is protected by client certificates only');
    } else {
      logger.warn({ event: 'metrics_auth_disabled' }, 'metrics authentication is OFF (--no-metrics-auth): anyone who reaches the metrics port can read /metrics');
    }
  }
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar(config, { logger, version: VERSION });
  } catch (err) {
    const message = err instanceof SidecarError ? `${err.code}: ${err.message}` : String(err);
    logger.fatal({ event: 'start_failed', err: message }, 'sidecar failed to start');
    flushLogger(logger);
    return fail(message, ExitCodes.FAILURE);
  }
  installSignalHandlers(sidecar, logger);
  return undefined;
}

const exitCode = await run(process.argv.slice(2));
if (exitCode !== undefined) process.exitCode = exitCode;
