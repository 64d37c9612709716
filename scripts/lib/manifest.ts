/**
 * The sidecar's memory request and limit as deploy/kubernetes/base/deployment.yaml declares them, for the
 * soak and the SSE bench scenario to print their peaks against (and for the manifest tests).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const DEPLOYMENT_YAML = fileURLToPath(new URL('../../deploy/kubernetes/base/deployment.yaml', import.meta.url));
export const SIDECAR_CONTAINER = 'mcp-composer-sidecar';

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Readonly<Record<string, number>> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A Kubernetes memory quantity (`256Mi`, `1G`, `134217728`) in bytes. */
export function parseQuantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
  if (m === null) throw new Error(`${JSON.stringify(q)} is not a Kubernetes memory quantity`);
  const unit = m[2] ?? '';
  return Math.round(Number(m[1]) * (BINARY[unit] ?? DECIMAL[unit] ?? 1));
}

export interface ManifestMemory {
  /** `resources.requests.memory` as written, and in bytes. */
  readonly request: string;
  readonly requestBytes: number;
  /** `resources.limits.memory` as written, and in bytes. */
  readonly limit: string;
  readonly limitBytes: number;
}

interface Container {
  name?: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

/** The sidecar container's memory request and limit in a Deployment manifest (the base one by default). */
export function manifestMemory(text: string = readFileSync(DEPLOYMENT_YAML, 'utf8')): ManifestMemory {
  for (const doc of parseAllDocuments(text)) {
    const spec = (doc.toJS() as { spec?: { template?: { spec?: { initContainers?: Container[]; containers?: Container[] } } } } | null)?.spec?.template?.spec;
    const c = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].find((x) => x.name === SIDECAR_CONTAINER);
    const request = c?.resources?.requests?.['memory'];
    const limit = c?.resources?.limits?.['memory'];
    if (request !== undefined && limit !== undefined) return { request, requestBytes: parseQuantity(request), limit, limitBytes: parseQuantity(limit) };
  }
  throw new Error(`no ${SIDECAR_CONTAINER} container with a memory request and limit in the manifest`);
}
