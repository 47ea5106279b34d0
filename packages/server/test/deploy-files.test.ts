/**
 * The deployment files in deploy/ cannot run here (no Docker engine, no Kubernetes cluster),
 * so what can be checked without them is checked: each parses, every variable they set is one
 * that config.ts reads (a misspelt name would be ignored silently by the server's environment
 * and never noticed), and the Kubernetes objects select the pods they mean to.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { envSchema } from '../src/config.js';

const deploy = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const known = new Set(Object.keys(envSchema.shape));
const read = (path: string) => readFileSync(join(deploy, path), 'utf8');

type Manifest = {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

function manifests(): Manifest[] {
  const dir = join(deploy, 'kubernetes');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJSON() as Manifest));
}

describe('deploy/', () => {
  it('compose.yaml sets only variables Latchkey reads, and nginx proxies to the port the nodes listen on', () => {
    const compose = parse(read('compose.yaml'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string>; command?: string[] }>;
    };
    const latchkey = compose.services.latchkey;
    const migrate = compose.services.migrate;
    expect(latchkey?.command).toEqual(['serve']);
    expect(migrate?.command).toEqual(['bootstrap']);
    for (const service of [latchkey, migrate]) {
      const names = Object.keys(service?.environment ?? {});
      expect(names.length).toBeGreaterThan(5);
      expect(names.filter((n) => !known.has(n))).toEqual([]);
    }
    const port = latchkey?.environment?.PORT;
    expect(read('nginx.conf')).toContain(`server latchkey:${port} `);
  });

  it('the Kubernetes manifests set only variables Latchkey reads and select the server pods', () => {
    const all = manifests();
    const byKind = (kind: string) => all.filter((m) => m.kind === kind);
    const env = [...byKind('ConfigMap'), ...byKind('Secret')].flatMap((m) =>
      Object.keys({ ...m.data, ...m.stringData }),
    );
    expect(env).toContain('LATCHKEY_SECRET');
    expect(env.filter((n) => !known.has(n))).toEqual([]);

    const [deployment] = byKind('Deployment') as unknown as {
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: {
          metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
          spec: {
            containers: {
              ports: { name: string; containerPort: number }[];
              readinessProbe: { httpGet: { path: string } };
              livenessProbe: { httpGet: { path: string } };
              securityContext: Record<string, unknown>;
            }[];
          };
        };
      };
    }[];
    expect(deployment).toBeDefined();
    if (!deployment) return;
    const labels = deployment.spec.template.metadata.labels;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
    for (const m of [...byKind('Service'), ...byKind('PodDisruptionBudget')]) {
      const spec = m.spec as { selector: Record<string, string> & { matchLabels?: Record<string, string> } };
      expect(selects(spec.selector.matchLabels ?? spec.selector), m.kind).toBe(true);
    }
    const container = deployment.spec.template.spec.containers[0];
    expect(container?.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container?.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    // Prometheus scrapes the port the nodes serve metrics on, where they serve them (docs/metrics.md).
    const config = Object.assign({}, ...byKind('ConfigMap').map((m) => m.data)) as Record<string, string>;
    const annotations = deployment.spec.template.metadata.annotations ?? {};
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(annotations['prometheus.io/path']).toBe('/metrics');
    expect(annotations['prometheus.io/port']).toBe(config.METRICS_PORT);
    expect(container?.ports).toContainEqual({ name: 'metrics', containerPort: Number(config.METRICS_PORT) });
    expect(config.METRICS_HOST).toBe('0.0.0.0');
  });
});
