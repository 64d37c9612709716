/**
 * The PrometheusRule (Prometheus Operator) made from the plain rule file, which is the one source of the
 * alert rules: the groups are carried over as they are, comments and string styles included.
 */
import { Document, isSeq, parseDocument } from 'yaml';

const HEADER = ` Generated from deploy/prometheus/rules/mcp-composer-sidecar.rules.yml by \`npm run deploy:generate\`:
 edit that file, not this one (a test fails while the two differ).`;

export function renderPrometheusRule(rulesText: string): string {
  const source = parseDocument(rulesText, { uniqueKeys: true });
  if (source.errors.length > 0) throw new Error(`rule file: ${source.errors.map((e) => e.message).join('; ')}`);
  const groups = source.get('groups', true);
  if (!isSeq(groups)) throw new Error('rule file: `groups` is not a list');
  const doc = new Document({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'mcp-composer', labels: { 'app.kubernetes.io/name': 'mcp-composer' } },
    spec: { groups: null },
  });
  doc.setIn(['spec', 'groups'], groups);
  doc.commentBefore = HEADER;
  return doc.toString({ lineWidth: 0 });
}
