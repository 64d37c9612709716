#!/usr/bin/env node
/**
 * The `mcp-composer-sidecar` command: parses flags and environment, sizes V8's heap from the memory limit
 * (starting Node once more with the heap flags when they are not in effect: memory.ts), starts the
 * sidecar, and turns signals into an orderly shutdown. Exit codes: 0 after a clean shutdown, 2 for invalid
 * configuration (a memory limit too small included), 1 for anything else (a port that cannot be bound, an
 * uncaught error).
 */
import './runtime-flags.ts';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { ConfigError, ErrorCodes, ExitCodes, SidecarError } from './errors.ts';
import { renderHelp } from './config/help.ts';
import { loadConfig } from './config/load.ts';
import { createLogger, flushLogger, type Logger } from './log.ts';
import type { Sidecar } from './main.ts';
import { budgetRuntimeFlags, formatMiB, HEAP_FLAGS_ENV, planMemory, readSystemFile, resolveBudget, type MemoryPlan } from './config/memory.ts';
import { VERSION } from './version.ts';

function fail(message: string, code: number): number {
  process.stderr.write(`mcp-composer-sidecar: ${message}\n`);
  return code;
}

/**
 * Replaces this process (same PID, so signals and the container runtime still reach it) with Node started
 * with the heap flags before its own options. Returns only when that is impossible (`process.execve` is
 * missing — Windows, Node < 22.15 — or failed): the sidecar then runs with V8's defaults.
 */
function restartWithHeapFlags(plan: Extract<MemoryPlan, { action: 'restart' }>): string | undefined {
  if (typeof process.execve !== 'function') return 'process.execve is not available on this platform';
  const script = process.argv[1];
  if (script === undefined) return 'no script path to start again';
  try {
    process.execve(process.execPath, [process.execPath, ...plan.flags, ...process.execArgv, script, ...process.argv.slice(2)], {
      ...process.env,
      [HEAP_FLAGS_ENV]: plan.flags.join(' '),
    });
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return 'process.execve returned';
}

function logMemoryBudget(logger: Logger, plan: MemoryPlan, restartFailure: string | undefined): void {
  const heapSizeLimitMiB = Math.round(getHeapStatistics().heap_size_limit / 1024 / 1024);
  if (plan.action === 'none') {
    logger.debug(
      { event: 'memory_budget', limit: 'none', heapSizeLimitMiB },
      `no memory limit (--memory-limit none, or no cgroup limit): V8's default heap (limit ${heapSizeLimitMiB} MiB)`,
    );
    return;
  }
  const b = plan.budget;
  const fields = {
    event: 'memory_budget',
    limit: formatMiB(b.limitBytes),
    limitBytes: b.limitBytes,
    source: b.source,
    oldSpaceMiB: b.oldSpaceMiB,
    semiSpaceMiB: b.semiSpaceMiB,
    heapLimitMiB: b.heapLimitMiB,
    heapSizeLimitMiB,
    flags: plan.flags,
    runtimeFlags: budgetRuntimeFlags(plan),
  };
  if (plan.action === 'applied') {
    logger.info(
      fields,
      `memory limit ${formatMiB(b.limitBytes)} (${b.source}): V8 heap ${b.heapLimitMiB} MiB (old space ${b.oldSpaceMiB} MiB, semi-space ${b.semiSpaceMiB} MiB, growing factor 2); heap_size_limit ${heapSizeLimitMiB} MiB`,
    );
  } else if (plan.action === 'operator') {
    logger.info(
      fields,
      `memory limit ${formatMiB(b.limitBytes)} (${b.source}): heap flags set by the operator (${plan.flags.join(' ')}) are kept; heap_size_limit ${heapSizeLimitMiB} MiB`,
    );
  } else {
    logger.warn(
      { ...fields, reason: restartFailure },
      `memory limit ${formatMiB(b.limitBytes)} (${b.source}) not applied (${restartFailure}): start Node with ${plan.flags.join(' ')}; heap_size_limit ${heapSizeLimitMiB} MiB`,
    );
  }
}

function installCrashHandlers(logger: Logger): void {
  const die = (kind: string) => (err: unknown) => {
    logger.fatal(
      {
        event: 'crash',
        kind,
        code: ErrorCodes.SIDECAR_E_INTERNAL,
        err: err instanceof Error ? { type: err.name, message: err.message, stack: err.stack } : String(err),
      },
      'uncaught error: exiting',
    );
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
  let plan: MemoryPlan;
  try {
    plan = planMemory(resolveBudget(config.memoryLimit, readSystemFile), process.execArgv, process.env['NODE_OPTIONS'], process.env[HEAP_FLAGS_ENV]);
  } catch (err) {
    return fail(`${ErrorCodes.SIDECAR_E_CONFIG}: --memory-limit / SIDECAR_MEMORY_LIMIT: ${(err as Error).message}`, ExitCodes.USAGE);
  }
  // Nothing has been written yet: the process can still be replaced without losing a line.
  const restartFailure = plan.action === 'restart' ? restartWithHeapFlags(plan) : undefined;
  delete process.env[HEAP_FLAGS_ENV];
  for (const flag of budgetRuntimeFlags(plan)) setFlagsFromString(flag);
  const logger = createLogger({ level: config.logLevel, traceContext: config.otel.traces !== undefined });
  installCrashHandlers(logger);
  logMemoryBudget(logger, plan, restartFailure);
  if (config.metricsAuth.kind === 'none') {
    if (config.metricsTls?.clientCa !== undefined) {
      logger.warn({ event: 'metrics_auth_disabled' }, 'metrics bearer token is OFF (--no-metrics-auth): /metrics is protected by client certificates only');
    } else {
      logger.warn(
        { event: 'metrics_auth_disabled' },
        'metrics authentication is OFF (--no-metrics-auth): anyone who reaches the metrics port can read /metrics',
      );
    }
  }
  let sidecar: Sidecar;
  try {
    // Loaded only now: a process that is replaced above never loads the sidecar's modules.
    const { startSidecar } = await import('./main.ts');
    sidecar = await startSidecar(config, { logger, version: VERSION });
  } catch (err) {
    const message = err instanceof SidecarError ? `${err.code}: ${err.message}` : `${ErrorCodes.SIDECAR_E_INTERNAL}: ${String(err)}`;
    logger.fatal({ event: 'start_failed', err: message }, 'sidecar failed to start');
    flushLogger(logger);
    return fail(message, ExitCodes.FAILURE);
  }
  installSignalHandlers(sidecar, logger);
  return undefined;
}

const exitCode = await run(process.argv.slice(2));
if (exitCode !== undefined) process.exitCode = exitCode;
