/**
 * Maps one event of the composer's stream (docs/events.md) to what it means for the
 * sidecar. Pure: the SSE event type and data in, a typed outcome out. Malformed events, unknown types and
 * missing fields become `invalid` outcomes (counted and skipped by the caller); unknown extra fields are
 * ignored.
 */
import type { ResourceReadFact, ToolCallFact } from '../../ledger/facts.ts';
import type { Capabilities, ServerInfo, ServerNote } from '../../ledger/inventory-change.ts';
import type { LifecycleFact } from '../../ledger/lifecycle.ts';
import { resourceUriLabel } from '../../ledger/uri.ts';
import { parseServerInfo } from '../poll/inventory-parse.ts';

export const EVENT_TYPES = [
  'snapshot',
  'reset',
  'server.starting',
  'server.started',
  'server.start_failed',
  'server.stopped',
  'server.stop_failed',
  'server.crashed',
  'server.restarted',
  'capabilities.changed',
  'tool.invoked',
  'resource.read',
  'config.reloaded',
  'config.validation_failed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

const KNOWN: ReadonlySet<string> = new Set(EVENT_TYPES);

export type InvalidReason = 'malformed_json' | 'bad_envelope' | 'unknown_type' | 'bad_data';

export type EventOutcome =
  | {
      readonly kind: 'snapshot';
      readonly servers: ServerInfo[];
      readonly capabilities: Capabilities | undefined;
      readonly perServer: ReadonlyMap<string, Capabilities> | undefined;
      readonly conflicts: number | undefined;
      readonly lastEventId: number | undefined;
    }
  | { readonly kind: 'reset'; readonly reason: string }
  | { readonly kind: 'lifecycle'; readonly fact: LifecycleFact | undefined; readonly note: ServerNote | undefined }
  | { readonly kind: 'capabilities'; readonly serverId: string; readonly counts: Capabilities; readonly conflicts: number | undefined }
  | { readonly kind: 'tool_call'; readonly fact: ToolCallFact }
  | { readonly kind: 'resource_read'; readonly fact: ResourceReadFact }
  | { readonly kind: 'invalid'; readonly reason: InvalidReason };

export interface MappedEvent {
  /** The event type for `sidecar_events_received_total{type}` (`undefined` when invalid). */
  readonly type: EventType | undefined;
  /** The envelope's `time` in ms since the epoch, when present and valid. */
  readonly time: number | undefined;
  readonly outcome: EventOutcome;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v !== '' && v.length <= max ? v : undefined);
const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : Array.isArray(v) ? v.length : undefined);
const seconds = (ms: unknown): number | undefined => (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined);

const invalid = (reason: InvalidReason, type?: EventType): MappedEvent => ({ type, time: undefined, outcome: { kind: 'invalid', reason } });

function capabilitiesOf(v: unknown): Capabilities | undefined {
  if (!isObj(v)) return undefined;
  const tools = count(v['tools']);
  const prompts = count(v['prompts']);
  const resources = count(v['resources']);
  return tools === undefined || prompts === undefined || resources === undefined ? undefined : { tools, prompts, resources };
}

function snapshot(d: Obj): EventOutcome | undefined {
  if (!Array.isArray(d['servers'])) return undefined;
  const servers: ServerInfo[] = [];
  for (const s of d['servers'] as unknown[]) {
    const info = parseServerInfo(s);
    if (info !== undefined) servers.push(info);
  }
  let perServer: Map<string, Capabilities> | undefined;
  if (isObj(d['per_server'])) {
    perServer = new Map();
    for (const [id, caps] of Object.entries(d['per_server'])) {
      const c = capabilitiesOf(caps);
      if (c !== undefined) perServer.set(id, c);
    }
  }
  const last = d['last_event_id'];
  return {
    kind: 'snapshot',
    servers,
    capabilities: capabilitiesOf(d['capabilities']),
    perServer,
    conflicts: count(d['conflicts']),
    lastEventId: typeof last === 'number' && Number.isInteger(last) && last >= 0 ? last : undefined,
  };
}

function lifecycle(type: EventType, d: Obj): EventOutcome | undefined {
  const serverId = str(d['server_id'], 128);
  if (serverId === undefined) return undefined;
  const pid = typeof d['pid'] === 'number' && Number.isInteger(d['pid']) ? d['pid'] : undefined;
  const withPid = pid === undefined ? {} : { pid };
  switch (type) {
    case 'server.starting':
      return { kind: 'lifecycle', fact: undefined, note: { serverId, state: 'starting' } };
    case 'server.started':
      return { kind: 'lifecycle', fact: { kind: 'start', serverId, ok: true }, note: { serverId, state: 'running', ...withPid } };
    case 'server.start_failed':
      return { kind: 'lifecycle', fact: { kind: 'start', serverId, ok: false }, note: { serverId, state: 'stopped' } };
    case 'server.stopped':
      return { kind: 'lifecycle', fact: { kind: 'stop', serverId, ok: true }, note: { serverId, state: 'stopped' } };
    case 'server.stop_failed':
      return { kind: 'lifecycle', fact: { kind: 'stop', serverId, ok: false }, note: undefined };
    case 'server.crashed':
      return { kind: 'lifecycle', fact: { kind: 'crash', serverId }, note: { serverId, state: 'crashed' } };
    case 'server.restarted': {
      const reason = d['reason'];
      if (reason !== 'manual' && reason !== 'crash' && reason !== 'config_change') return undefined;
      return { kind: 'lifecycle', fact: { kind: 'restart', serverId, reason }, note: { serverId, state: 'running', restartCountDelta: 1, ...withPid } };
    }
    default:
      return undefined;
  }
}

function data(type: EventType, d: Obj): EventOutcome | undefined {
  switch (type) {
    case 'snapshot':
      return snapshot(d);
    case 'reset':
      return { kind: 'reset', reason: str(d['reason'], 64) ?? 'unknown' };
    case 'capabilities.changed': {
      const serverId = str(d['server_id'], 128);
      const counts = capabilitiesOf(d);
      return serverId === undefined || counts === undefined ? undefined : { kind: 'capabilities', serverId, counts, conflicts: count(d['conflicts']) };
    }
    case 'tool.invoked': {
      const toolId = str(d['tool_id']);
      const durationSeconds = seconds(d['duration_ms']);
      if (toolId === undefined || durationSeconds === undefined || typeof d['success'] !== 'boolean') return undefined;
      const errorType = str(d['error_type'], 40);
      const transport = str(d['transport'], 40);
      return {
        kind: 'tool_call',
        fact: {
          source: 'event',
          toolId,
          ok: d['success'],
          durationSeconds,
          ...(d['success'] ? {} : { errorType: (errorType ?? 'tool_error') as ToolCallFact['errorType'] & string }),
          ...(transport !== undefined ? { transport } : {}),
        },
      };
    }
    case 'resource.read': {
      const uri = str(d['resource_uri'], 2048);
      // A URI that is only a query or a fragment reduces to nothing: as missing as an empty one.
      const resourceUri = uri === undefined ? undefined : str(resourceUriLabel(uri, 2048), 2048);
      const durationSeconds = seconds(d['duration_ms']);
      if (resourceUri === undefined || durationSeconds === undefined || typeof d['success'] !== 'boolean') return undefined;
      const transport = str(d['transport'], 40);
      return {
        kind: 'resource_read',
        fact: { source: 'event', resourceUri, ok: d['success'], durationSeconds, ...(transport !== undefined ? { transport } : {}) },
      };
    }
    case 'config.reloaded':
      return typeof d['success'] === 'boolean' ? { kind: 'lifecycle', fact: { kind: 'config_reload', ok: d['success'] }, note: undefined } : undefined;
    case 'config.validation_failed': {
      const errorType = str(d['error_type'], 40) ?? 'validation';
      return { kind: 'lifecycle', fact: { kind: 'config_validation_error', errorType }, note: undefined };
    }
    default:
      return lifecycle(type, d);
  }
}

/**
 * Maps one SSE event. `sseType` is the `event:` field; the envelope's `type` is used when the field is
 * absent. Both must agree when both are present.
 */
export function mapEvent(sseType: string | undefined, rawData: string): MappedEvent {
  let envelope: unknown;
  try {
    envelope = JSON.parse(rawData);
  } catch {
    return invalid('malformed_json');
  }
  if (!isObj(envelope)) return invalid('bad_envelope');
  const declared = sseType ?? str(envelope['type'], 64);
  if (declared === undefined || (sseType !== undefined && envelope['type'] !== undefined && envelope['type'] !== sseType)) return invalid('bad_envelope');
  if (!KNOWN.has(declared)) return invalid('unknown_type');
  const type = declared as EventType;
  // Data is usually nested in the envelope; accept a bare object for `reset`, which is connection-level.
  const d = isObj(envelope['data']) ? envelope['data'] : type === 'reset' ? envelope : undefined;
  if (d === undefined) return invalid('bad_data', type);
  const outcome = data(type, d);
  if (outcome === undefined) return invalid('bad_data', type);
  const t = typeof envelope['time'] === 'string' ? Date.parse(envelope['time']) : NaN;
  return { type, time: Number.isNaN(t) ? undefined : t, outcome };
}
