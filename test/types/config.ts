// Checked by `npm run typecheck`, never run: the configuration's type comes from the option table, so a
// wrong key or a wrong type fails the build. Each `@ts-expect-error` fails tsc if the line compiles.
import type { SidecarConfig } from '../../src/config/load.ts';
import { optionByKey } from '../../src/config/options.ts';
import type { HostPort } from '../../src/config/values.ts';

export function readsRowsWithTheirTypes(config: SidecarConfig): void {
  const upstream: URL = config.upstream;
  const listen: HostPort = config.listen;
  const methods: readonly string[] = config.allowedMethods;
  const level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' = config.logLevel;
  // A row without a default may be absent.
  const separator: string | undefined = config.serverIdSeparator;
  // @ts-expect-error -- a row without a default is `undefined` when not given.
  const separatorAlways: string = config.serverIdSeparator;
  // @ts-expect-error -- a misspelt key is no field.
  void config.upstreamConectTimeoutMs;
  // @ts-expect-error -- a duration is a number of milliseconds, not text.
  const grace: string = config.shutdownGraceMs;
  // @ts-expect-error -- the token rows are resolved into metricsAuth and are not fields.
  void config.metricsToken;
  const auth: 'file' | 'inline' | 'none' = config.metricsAuth.kind;
  void [upstream, listen, methods, level, separator, separatorAlways, grace, auth];
}

export function looksRowsUpByKey(): void {
  void optionByKey('metricsListen');
  // @ts-expect-error -- no such option.
  void optionByKey('metricListen');
}
