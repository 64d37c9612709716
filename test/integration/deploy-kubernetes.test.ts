/**
 * deploy/kubernetes: every kustomization builds offline with `kubectl kustomize`, every object validates
 * against the Kubernetes and Prometheus Operator schemas, and the pod is secure by default — checked on
 * what kustomize outputs, with the sidecar's own argument parser reading its arguments.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import type { SidecarConfig } from '../../src/config/load.ts';
import { DEPLOY_PATHS, kustomize, KUBECTL, MISSING_KUBECTL, ruleGroups, type K8sObject } from '../fixtures/deploy-files.ts';
import { allContainers, matchesLabels, only, podTemplate, resolvePort, validateSchema, type Container, type PodSpec } from '../fixtures/k8s.ts';

const SIDECAR = 'mcp-composer-sidecar';
const BUILDS = { base: 'native', 'overlays/default': 'native', 'overlays/classic': 'classic', 'overlays/podmonitor': 'native' } as const;
const MONITORED: Record<string, 'ServiceMonitor' | 'PodMonitor'> = {
  'overlays/default': 'ServiceMonitor',
  'overlays/classic': 'ServiceMonitor',
  'overlays/podmonitor': 'PodMonitor',
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-k8s-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const builds = new Map<string, { objects: K8sObject[]; spec: PodSpec; labels: Record<string, string> }>();

/** `kubectl kustomize` of a folder under deploy/kubernetes, once per folder, with its pod template. */
function built(path: string): { objects: K8sObject[]; spec: PodSpec; labels: Record<string, string> } {
  let b = builds.get(path);
  if (b === undefined) {
    const objects = kustomize(join(DEPLOY_PATHS.kubernetes, path));
    builds.set(path, (b = { objects, ...podTemplate(only(objects, 'Deployment')) }));
  }
  return b;
}

function sidecarOf(spec: PodSpec): Container {
  const found = allContainers(spec).filter((c) => c.name === SIDECAR);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/**
 * The sidecar's configuration as the sidecar itself parses its arguments and environment. The token file
 * does not exist here: its path is swapped for a temporary file, and returned as `tokenFile`.
 */
function sidecarConfig(c: Container): { config: SidecarConfig; tokenFile: string } {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  const flag = argv.findIndex((a) => a === '--metrics-token-file' || a.startsWith('--metrics-token-file='));
  const fromArgs = flag === -1 ? undefined : argv[flag]!.includes('=') ? argv[flag]!.slice(argv[flag]!.indexOf('=') + 1) : argv[flag + 1];
  const tokenFile = fromArgs ?? c.env?.find((e) => e.name === 'SIDECAR_METRICS_TOKEN_FILE')?.value;
  if (tokenFile === undefined) throw new Error(`${c.name} has no --metrics-token-file nor SIDECAR_METRICS_TOKEN_FILE`);
  const local = join(dir, 'token');
  writeFileSync(local, 'a-test-token-0123456789');
  const swap = (s: string) => s.replace(tokenFile, local);
  const env = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, swap(e.value!)]));
  return { config: loadConfig(argv.map(swap), env), tokenFile };
}

describe.skipIf(KUBECTL === undefined)(`deploy/kubernetes${KUBECTL === undefined ? ` (skipped: ${MISSING_KUBECTL})` : ''}`, () => {
  describe.each(Object.entries(BUILDS))('%s', (path, shape) => {
    let objects: K8sObject[];
    let spec: PodSpec;
    let labels: Record<string, string>;
    beforeAll(() => {
      ({ objects, spec, labels } = built(path));
    });

    it('builds, and every object validates against its Kubernetes or Prometheus Operator schema', () => {
      expect(objects.map((o) => o.kind).sort()).toEqual(
        ['Deployment', 'NetworkPolicy', 'Service', 'ServiceAccount', ...(MONITORED[path] ? [MONITORED[path], 'PrometheusRule'] : [])].sort(),
      );
      for (const o of objects) expect(() => validateSchema(o), `${o.kind} ${o.metadata.name}`).not.toThrow();
      if (path !== 'base') for (const o of objects) expect(o.metadata.namespace).toBe('mcp-composer');
    });

    it(
      shape === 'native'
        ? 'runs the sidecar as a native sidecar: an init container with restartPolicy Always'
        : 'runs the sidecar as a second ordinary container',
      () => {
        const names = (cs: Container[] | undefined) => (cs ?? []).map((c) => c.name);
        if (shape === 'native') {
          expect(names(spec.initContainers)).toEqual([SIDECAR]);
          expect(spec.initContainers![0]!.restartPolicy).toBe('Always');
          expect(names(spec.containers)).toEqual(['composer']);
        } else {
          expect(spec.initContainers ?? []).toEqual([]);
          expect(names(spec.containers).sort()).toEqual(['composer', SIDECAR].sort());
          for (const c of spec.containers) expect(c.restartPolicy).toBeUndefined();
        }
      },
    );

    it('runs every container non-root, read-only, without privilege escalation or capabilities, under RuntimeDefault seccomp, with requests and limits', () => {
      expect(spec.securityContext?.runAsNonRoot).toBe(true);
      expect(spec.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(spec.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const flag of ['hostNetwork', 'hostPID', 'hostIPC'] as const) expect(spec[flag]).not.toBe(true);
      for (const c of allContainers(spec)) {
        const sc = c.securityContext ?? {};
        expect(sc.runAsNonRoot, c.name).toBe(true);
        expect(sc.readOnlyRootFilesystem, c.name).toBe(true);
        expect(sc.allowPrivilegeEscalation, c.name).toBe(false);
        expect(sc.privileged, c.name).not.toBe(true);
        expect(sc.capabilities?.drop, c.name).toContain('ALL');
        expect(sc.capabilities?.add ?? [], c.name).toEqual([]);
        expect(sc.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type, c.name).toBe('RuntimeDefault');
        for (const kind of ['requests', 'limits'] as const)
          for (const r of ['cpu', 'memory']) expect(c.resources?.[kind]?.[r], `${c.name} ${kind}.${r}`).toBeDefined();
      }
    });

    it('gives the sidecar its metrics token as a file from the mounted Secret, never as a value in arguments or environment', () => {
      const sidecar = sidecarOf(spec);
      const { config, tokenFile } = sidecarConfig(sidecar);
      expect(config.metricsAuth.kind).toBe('file');
      const mount = sidecar.volumeMounts?.find((m) => m.mountPath === dirname(tokenFile));
      expect(mount, `a volume mounted at ${dirname(tokenFile)}`).toBeDefined();
      expect(mount!.readOnly).toBe(true);
      expect(mount!.subPath, 'a subPath mount never sees a rotated Secret').toBeUndefined();
      const volume = spec.volumes?.find((v) => v.name === mount!.name);
      expect(volume?.secret?.secretName).toBe('mcp-composer-sidecar-metrics-token');
      expect(volume?.secret?.items).toEqual([{ key: 'token', path: basename(tokenFile) }]);
      // Only the sidecar mounts it.
      for (const c of allContainers(spec)) if (c !== sidecar) expect(c.volumeMounts?.some((m) => m.name === mount!.name) ?? false, c.name).toBe(false);
      // No token or secret reaches any container through arguments or variables.
      for (const c of allContainers(spec)) {
        const argv = [...(c.command ?? []), ...(c.args ?? [])];
        expect(
          argv.some((a) => a === '--metrics-token' || a.startsWith('--metrics-token=') || a === '--no-metrics-auth'),
          c.name,
        ).toBe(false);
        expect(c.envFrom ?? [], c.name).toEqual([]);
        for (const e of c.env ?? []) {
          expect(e.valueFrom, `${c.name} ${e.name}`).toBeUndefined();
          expect(['SIDECAR_METRICS_TOKEN', 'SIDECAR_METRICS_AUTH'], c.name).not.toContain(e.name);
        }
      }
      expect(objects.filter((o) => o.kind === 'Secret' || o.kind === 'ConfigMap')).toEqual([]);
    });

    it('points the sidecar at the composer on 127.0.0.1, and the composer listens on 127.0.0.1 only', () => {
      const { config } = sidecarConfig(sidecarOf(spec));
      const upstream = new URL(config.upstream.href);
      expect(upstream.hostname).toBe('127.0.0.1');
      const composer = spec.containers.find((c) => c.name === 'composer')!;
      const argv = [...(composer.command ?? []), ...(composer.args ?? [])];
      expect(argv[argv.indexOf('--host') + 1]).toBe('127.0.0.1');
      expect(argv[argv.indexOf('--port') + 1]).toBe(upstream.port);
      const settings = [...argv, ...(composer.env ?? []).map((e) => e.value ?? '')];
      expect(settings.some((s) => /0\.0\.0\.0|::/.test(s))).toBe(false);
      expect(composer.ports ?? [], 'the composer exposes no port').toEqual([]);
    });

    it('probes liveness (/healthz) and readiness (/readyz) on the metrics port, and the shutdown grace fits the termination grace', () => {
      const sidecar = sidecarOf(spec);
      const { config } = sidecarConfig(sidecar);
      expect(sidecar.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(sidecar.readinessProbe?.httpGet?.path).toBe('/readyz');
      for (const p of [sidecar.livenessProbe, sidecar.readinessProbe, sidecar.startupProbe]) {
        if (p === undefined) continue;
        expect(resolvePort(sidecar, p.httpGet!.port)).toBe(config.metricsListen.port);
      }
      expect(resolvePort(sidecar, 'proxy')).toBe(config.listen.port);
      // The sidecar drains for --shutdown-grace, then flushes exporters (at most 5 s each).
      expect(spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThanOrEqual(config.shutdownGraceMs + 10_000);
    });

    it("sends Service traffic to the sidecar's proxy port, never to the composer", () => {
      const svc = only(objects, 'Service').spec as { selector: Record<string, string>; ports: Array<{ name: string; targetPort: number | string }> };
      expect(matchesLabels(svc.selector, labels)).toBe(true);
      const sidecar = sidecarOf(spec);
      const { config } = sidecarConfig(sidecar);
      const targets = Object.fromEntries(svc.ports.map((p) => [p.name, resolvePort(sidecar, p.targetPort)]));
      expect(targets).toEqual({ http: config.listen.port, metrics: config.metricsListen.port });
    });

    it('opens the metrics port to the monitoring namespace only, and the proxy port to clients', () => {
      const np = only(objects, 'NetworkPolicy').spec as {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: string[];
        ingress: Array<{ from?: Array<Record<string, unknown>>; ports?: Array<{ port: number | string }> }>;
      };
      const { config } = sidecarConfig(sidecarOf(spec));
      expect(matchesLabels(np.podSelector.matchLabels, labels)).toBe(true);
      expect(np.policyTypes).toContain('Ingress');
      for (const rule of np.ingress) expect(rule.ports?.length, 'every rule names its ports').toBeGreaterThan(0);
      const rulesFor = (port: number) => np.ingress.filter((r) => r.ports!.some((p) => p.port === port));
      const metrics = rulesFor(config.metricsListen.port);
      expect(metrics).toHaveLength(1);
      expect(metrics[0]!.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
      expect(rulesFor(config.listen.port)).toHaveLength(1);
      const upstreamPort = Number(new URL(config.upstream.href).port);
      expect(rulesFor(upstreamPort)).toEqual([]);
    });
  });

  describe.each(Object.entries(MONITORED))('%s with the Prometheus Operator', (path, kind) => {
    let objects: K8sObject[];
    let spec: PodSpec;
    let labels: Record<string, string>;
    beforeAll(() => {
      ({ objects, spec, labels } = built(path));
    });

    it('scrapes the metrics port with the token Secret, as job mcp-composer, with the alert rules of deploy/prometheus', () => {
      const monitor = only(objects, kind).spec as {
        jobLabel: string;
        selector: { matchLabels: Record<string, string> };
        endpoints?: Array<Record<string, unknown>>;
        podMetricsEndpoints?: Array<Record<string, unknown>>;
      };
      const endpoints = monitor.endpoints ?? monitor.podMetricsEndpoints ?? [];
      expect(endpoints).toHaveLength(1);
      const ep = endpoints[0]! as {
        port: string;
        path: string;
        authorization: unknown;
        bearerTokenSecret?: unknown;
        bearerTokenFile?: unknown;
        basicAuth?: unknown;
      };
      expect(ep.path).toBe('/metrics');
      expect(ep.authorization).toEqual({ type: 'Bearer', credentials: { name: 'mcp-composer-sidecar-metrics-token', key: 'token' } });
      for (const k of ['bearerTokenSecret', 'bearerTokenFile', 'basicAuth'] as const) expect(ep[k]).toBeUndefined();
      const sidecar = sidecarOf(spec);
      const { config } = sidecarConfig(sidecar);
      const scraped = kind === 'ServiceMonitor' ? only(objects, 'Service') : undefined;
      if (scraped !== undefined) {
        const svcSpec = scraped.spec as { ports: Array<{ name: string; targetPort: number | string }> };
        expect(matchesLabels(monitor.selector.matchLabels, scraped.metadata.labels ?? {})).toBe(true);
        expect(resolvePort(sidecar, svcSpec.ports.find((p) => p.name === ep.port)!.targetPort)).toBe(config.metricsListen.port);
        expect(scraped.metadata.labels?.[monitor.jobLabel]).toBe('mcp-composer');
      } else {
        expect(matchesLabels(monitor.selector.matchLabels, labels)).toBe(true);
        expect(resolvePort(sidecar, ep.port)).toBe(config.metricsListen.port);
        expect(labels[monitor.jobLabel]).toBe('mcp-composer');
      }
      const rule = only(objects, 'PrometheusRule').spec as { groups: unknown };
      expect(rule.groups).toEqual(ruleGroups());
    });
  });

  describe('components/stable-user-ids', () => {
    /** base (+ the classic component after it) with stable-user-ids, built from a kustomization in a temporary folder. */
    function withStableIds(classic: boolean): { objects: K8sObject[]; spec: PodSpec } {
      const overlay = mkdtempSync(join(dir, 'stable-ids-'));
      const rel = relative(overlay, DEPLOY_PATHS.kubernetes);
      const components = [`${rel}/components/stable-user-ids`, ...(classic ? [`${rel}/components/classic-sidecar`] : [])];
      writeFileSync(
        join(overlay, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'resources:',
          `  - ${rel}/base`,
          'components:',
          ...components.map((c) => `  - ${c}`),
          '',
        ].join('\n'),
      );
      const objects = kustomize(overlay);
      return { objects, ...podTemplate(only(objects, 'Deployment')) };
    }

    it.each([false, true])('keys user_id from a mounted Secret read as a file, never a value (classic pod: %s)', (classic) => {
      const { objects, spec } = withStableIds(classic);
      for (const o of objects) expect(() => validateSchema(o), `${o.kind} ${o.metadata.name}`).not.toThrow();
      const sidecar = sidecarOf(spec);
      const keyPath = sidecar.env?.find((e) => e.name === 'SIDECAR_USER_ID_KEY_FILE')?.value;
      expect(keyPath).toBeDefined();
      const mount = sidecar.volumeMounts?.find((m) => m.mountPath === dirname(keyPath!));
      expect(mount?.readOnly).toBe(true);
      const volume = spec.volumes?.find((v) => v.name === mount!.name);
      expect(volume?.secret?.secretName).toBe('mcp-composer-sidecar-user-id-key');
      expect(volume?.secret?.items).toEqual([{ key: 'key', path: basename(keyPath!) }]);
      for (const c of allContainers(spec)) if (c !== sidecar) expect(c.volumeMounts?.some((m) => m.name === mount!.name) ?? false, c.name).toBe(false);
      // The metrics token stays as it was, and the sidecar's own parser takes the variable.
      const local = join(dir, 'user-id-key');
      writeFileSync(local, 'k'.repeat(32));
      const { config } = sidecarConfig({
        ...sidecar,
        env: (sidecar.env ?? []).map((e) => (e.name === 'SIDECAR_USER_ID_KEY_FILE' ? { ...e, value: local } : e)),
      });
      expect(config.userIdKeyFile).toBe(local);
      expect(config.metricsAuth.kind).toBe('file');
      expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    });
  });
});
