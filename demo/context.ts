// What every route and transport of the demo composer shares. Built once by composer.ts.
import type { Logger } from 'pino';
import type { ConfigService } from './config-service.ts';
import type { EventBus } from './events/bus.ts';
import type { Catalog } from './metrics/catalog.ts';
import type { DemoOptions } from './options.ts';
import type { Supervisor } from './supervisor/supervisor.ts';

/** Counters behind GET /api/v1/metrics (the JSON summary). */
export interface ComposerStats {
  httpRequests: number;
  toolInvocations: number;
  toolErrors: number;
  resourceReads: number;
  resourceErrors: number;
}

export interface VersionInfo {
  readonly version: string;
  readonly python_version: string;
  readonly platform: string;
  readonly build_date: string | null;
  readonly git_commit: string | null;
}

export interface ComposerContext {
  readonly options: DemoOptions;
  readonly log: Logger;
  readonly bus: EventBus;
  readonly catalog: Catalog;
  readonly supervisor: Supervisor;
  readonly config: ConfigService;
  readonly stats: ComposerStats;
  readonly version: VersionInfo;
  /** Date.now() when the composer started. */
  readonly startedAt: number;
}
