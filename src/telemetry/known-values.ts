/**
 * The label values known in advance, told to the label bounds (instruments.ts {@link KnownValues}) and
 * turned into series at 0: what no amount of traffic can fold into `__other__`, and what alerts can see
 * from its first increase.
 *
 * - `endpoint`, `http.route`: the composer's route templates (ledger/endpoint.ts), and the MCP routes under
 *   `--mcp-path-prefix`;
 * - `tool_id`, `gen_ai.tool.name`: the tool ids and names the inventory has listed (REST `/tools`, MCP
 *   `tools/list`, the plain `GET /tools`); `gen_ai.prompt.name`: its prompts; `resource_uri`: its resource
 *   URIs; `server_id`: its servers (ledger/known-names.ts);
 * - fixed vocabularies: MCP method names, the `error_type`s the sidecar gives, `resource_type`s, the
 *   authorization denial reasons the sidecar and the composer use, and the `user_id`s without a credential.
 *
 * Each name the inventory learns is handed to the catalog recorder, which exports its counters at 0.
 */
import type { ErrorType } from '../ledger/facts.ts';
import { normalizeEndpoint, ROUTE_TEMPLATES } from '../ledger/endpoint.ts';
import type { ReadonlyInventory } from '../ledger/inventory.ts';
import { CONFIG_ERROR_TYPES, RESOURCE_TYPES } from '../sources/rest/rest-classify.ts';
import type { CatalogRecorder } from './catalog-recorder.ts';
import { vocabulary, type Instruments } from './instruments.ts';

/** The request methods of the MCP specification. */
export const MCP_METHODS: readonly string[] = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'roots/list',
  'sampling/createMessage',
  'elicitation/create',
];

const ERROR_TYPES = vocabulary<ErrorType>({
  tool_error: true,
  not_found: true,
  validation: true,
  timeout: true,
  cancelled: true,
  upstream_unavailable: true,
  internal: true,
  parse_error: true,
  invalid_request: true,
  method_not_found: true,
  invalid_params: true,
  internal_error: true,
  resource_not_found: true,
  jsonrpc_error: true,
});

/** `forbidden` is the sidecar's own reason for a 403 without an error code; `insufficient_permissions` the composer's code. */
const DENIAL_REASONS = ['forbidden', 'insufficient_permissions'];

/** `user_id`s of requests without a usable credential (sources/rest/auth.ts `userIdOf`). */
const NO_CREDENTIAL_USER_IDS = ['anonymous', 'unknown'];

export interface KnownValuesOptions {
  /** `--mcp-path-prefix`. @default '/' */
  readonly mcpPathPrefix?: string;
}

/** Tells the label bounds what is known in advance, and the recorder each name the inventory learns. */
export function registerKnownValues(instruments: Instruments, inventory: ReadonlyInventory, recorder: CatalogRecorder, opts: KnownValuesOptions = {}): void {
  const prefix = (opts.mcpPathPrefix ?? '/').replace(/\/$/, '');
  const mcpRoutes = prefix === '' ? [] : [`${prefix}/sse`, `${prefix}/messages/`, `${prefix}/mcp`].map(normalizeEndpoint);
  const routes = new Set([...ROUTE_TEMPLATES, ...mcpRoutes]);
  instruments.knownValues('endpoint').add(routes);
  instruments.knownValues('http.route').add(routes);
  const tools = { has: (v: string) => inventory.known.has('tools', v) };
  instruments.knownValues('tool_id').add(tools);
  instruments.knownValues('gen_ai.tool.name').add(tools);
  instruments.knownValues('gen_ai.prompt.name').add({ has: (v) => inventory.known.has('prompts', v) });
  instruments.knownValues('resource_uri').add({ has: (v) => inventory.known.has('resources', v) });
  instruments.knownValues('server_id').add({ has: (v) => inventory.knowsServer(v) });
  instruments.knownValues('mcp.method.name').add(new Set(MCP_METHODS));
  instruments.knownValues('error_type').add(new Set<string>([...ERROR_TYPES, ...CONFIG_ERROR_TYPES]));
  instruments.knownValues('resource_type').add(new Set(RESOURCE_TYPES));
  instruments.knownValues('reason').add(new Set(DENIAL_REASONS));
  instruments.knownValues('user_id').add(new Set(NO_CREDENTIAL_USER_IDS));
  inventory.known.subscribe((kind, name) => recorder.known(kind, name));
}
