/**
 * The OpenTelemetry resource every signal carries: `service.name` (`OTEL_SERVICE_NAME`, else the one in
 * `OTEL_RESOURCE_ATTRIBUTES`, else `mcp-composer-sidecar`), `service.version`, a `service.instance.id`
 * per process (so a collector tells replicas apart), the SDK's `telemetry.sdk.*`, and every attribute of
 * `OTEL_RESOURCE_ATTRIBUTES` (which win over the defaults except for `service.name`). The Prometheus
 * exposition does not show it (no `target_info`): Prometheus has its own target labels.
 */
import { randomUUID } from 'node:crypto';
import { SDK_INFO } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { OtelConfig } from '../config/otel-env.ts';

export function createResource(otel: Pick<OtelConfig, 'serviceName' | 'resourceAttributes'>, version: string): Resource {
  return resourceFromAttributes({
    ...SDK_INFO,
    'service.version': version,
    'service.instance.id': randomUUID(),
    ...otel.resourceAttributes,
    'service.name': otel.serviceName,
  });
}
