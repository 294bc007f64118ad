import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cron } from 'croner';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/runtime/config.js';
import { appEnvNames, CLI_COMMANDS } from './app-contract.js';

// The Kubernetes manifests (deploy/k8s) checked without a cluster: rendered with kustomize,
// validated against the Kubernetes schemas, and held to what the app reads and serves.

type Obj = Record<string, any>;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BASE = join(ROOT, 'deploy', 'k8s', 'base');
const KIND = join(ROOT, 'deploy', 'k8s', 'overlays', 'kind');
const NAMESPACE = 'page-stats';

/** The CLI's commands a deployment may run, each checked against src/runtime/cli.ts. */

/** The ${NAME}s ui/nginx.conf is templated with. */
function nginxTemplateVariables(): string[] {
  const template = readFileSync(join(ROOT, 'ui', 'nginx.conf'), 'utf8');
  return [...new Set([...template.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]!))].sort();
}

// ---------------------------------------------------------------------------------------------
// Rendering: `kubectl kustomize` where a kubectl with kustomize v4+ exists, else a small renderer
// for exactly the kustomize features these manifests use (it refuses any other).

const readYamlDocs = (path: string): Obj[] =>
  parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);

function kubectlKustomize(dir: string): Obj[] | undefined {
  const version = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) return undefined;
  // Debian's kubectl 1.20 embeds kustomize v2.0.3, which cannot take a directory in `resources`.
  const kustomize = /^v?(\d+)\./.exec(String(JSON.parse(version.stdout).kustomizeVersion ?? ''));
  if (kustomize === null || Number(kustomize[1]) < 4) return undefined;
  const out = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${out.stderr}`);
  const objects = parseAllDocuments(out.stdout).map((d) => d.toJS() as Obj);
  // kustomize wraps long base64 values in lines; the API server's decoder skips the line breaks.
  for (const o of objects) {
    if (o.kind === 'Secret') for (const key of Object.keys(o.data ?? {})) o.data[key] = String(o.data[key]).replace(/\s+/g, '');
  }
  return objects;
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'configMapGenerator', 'secretGenerator', 'patches', 'images']);

function renderBuiltIn(dir: string): Obj[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Obj;
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key)) throw new Error(`${dir}: the test's renderer does not know "${key}"; install kubectl`);
  }
  const objects: Obj[] = [];
  for (const resource of (k.resources ?? []) as string[]) {
    const path = join(dir, resource);
    objects.push(...(statSync(path).isDirectory() ? renderBuiltIn(path) : readYamlDocs(path)));
  }
  for (const [kind, generators] of [
    ['ConfigMap', k.configMapGenerator],
    ['Secret', k.secretGenerator],
  ] as const) {
    for (const g of (generators ?? []) as Obj[]) {
      if (g.files !== undefined) throw new Error(`${dir}: generator files are not supported by the test's renderer`);
      const data: Record<string, string> = {};
      for (const file of (g.envs ?? []) as string[]) {
        for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
          if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
          const eq = line.indexOf('=');
          data[line.slice(0, eq)] = line.slice(eq + 1);
        }
      }
      for (const literal of (g.literals ?? []) as string[]) {
        const eq = literal.indexOf('=');
        data[literal.slice(0, eq)] = literal.slice(eq + 1);
      }
      const encoded = kind === 'Secret' ? Object.fromEntries(Object.entries(data).map(([key, v]) => [key, Buffer.from(v).toString('base64')])) : data;
      const existing = objects.find((o) => o.kind === kind && o.metadata.name === g.name);
      const behavior = (g.behavior ?? 'create') as string;
      if (behavior === 'create') {
        if (existing !== undefined) throw new Error(`${dir}: ${kind} ${g.name} exists already`);
        objects.push({ apiVersion: 'v1', kind, metadata: { name: g.name }, ...(kind === 'Secret' ? { type: 'Opaque' } : {}), data: encoded });
      } else {
        if (existing === undefined) throw new Error(`${dir}: ${kind} ${g.name} to ${behavior} does not exist`);
        existing.data = behavior === 'replace' ? encoded : { ...existing.data, ...encoded };
      }
    }
  }
  for (const p of (k.patches ?? []) as Obj[]) {
    if (p.path === undefined || p.target !== undefined) throw new Error(`${dir}: only patches by path are supported by the test's renderer`);
    for (const patch of readYamlDocs(join(dir, p.path))) {
      const i = objects.findIndex((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (i < 0) throw new Error(`${dir}: patch target ${patch.kind} ${patch.metadata.name} not found`);
      objects[i] = strategicMerge(objects[i], patch);
    }
  }
  for (const image of (k.images ?? []) as Obj[]) {
    for (const { container } of allContainers(objects)) {
      const [repo, tag] = splitImage(container.image);
      if (repo !== image.name) continue;
      container.image = `${image.newName ?? repo}${image.digest ? `@${image.digest}` : `:${image.newTag ?? tag ?? 'latest'}`}`;
    }
  }
  if (k.namespace !== undefined) for (const o of objects) if (o.kind !== 'Namespace') o.metadata.namespace = k.namespace;
  return objects;
}

/** Kubernetes' strategic merge, as far as these patches need it: lists of named items merge by name. */
function strategicMerge(target: unknown, patch: unknown): any {
  const named = (list: unknown[]) => list.every((item) => typeof item === 'object' && item !== null && 'name' in item);
  if (Array.isArray(target) && Array.isArray(patch) && named(target) && named(patch)) {
    const out = (target as Obj[]).map((item) => structuredClone(item));
    for (const item of patch as Obj[]) {
      const i = out.findIndex((o) => o.name === item.name);
      if (i >= 0) out[i] = strategicMerge(out[i], item);
      else out.push(item);
    }
    return out;
  }
  if (isRecord(target) && isRecord(patch)) {
    const out: Obj = { ...target };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else out[key] = key in target ? strategicMerge(target[key], value) : value;
    }
    return out;
  }
  return patch;
}

const isRecord = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function splitImage(image: string): [string, string | undefined] {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, undefined];
}

/** Generated ConfigMap/Secret names carry a content hash in kustomize's output: drop it to compare. */
function withoutNameHashes(objects: Obj[]): Obj[] {
  const text = JSON.stringify(objects).replace(/"((?:page-stats-config|page-stats-secrets|postgres-credentials|influxdb-credentials))-[a-z0-9]{10}"/g, '"$1"');
  return (JSON.parse(text) as Obj[]).sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
}

const kubectlRenders = { base: kubectlKustomize(BASE), kind: kubectlKustomize(KIND) };
const builtInRenders = { base: renderBuiltIn(BASE), kind: renderBuiltIn(KIND) };
const renders = { base: kubectlRenders.base ?? builtInRenders.base, kind: kubectlRenders.kind ?? builtInRenders.kind };

// ---------------------------------------------------------------------------------------------
// Walking the objects

interface ContainerRef {
  owner: Obj;
  podSpec: Obj;
  container: Obj;
  init: boolean;
  batch: boolean;
}

function podSpecOf(o: Obj): { spec: Obj; labels: Obj } | undefined {
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind)) return { spec: o.spec.template.spec, labels: o.spec.template.metadata?.labels ?? {} };
  if (o.kind === 'CronJob') return { spec: o.spec.jobTemplate.spec.template.spec, labels: o.spec.jobTemplate.spec.template.metadata?.labels ?? {} };
  return undefined;
}

function allContainers(objects: Obj[]): ContainerRef[] {
  const refs: ContainerRef[] = [];
  for (const owner of objects) {
    const pod = podSpecOf(owner);
    if (pod === undefined) continue;
    const batch = owner.kind === 'Job' || owner.kind === 'CronJob';
    for (const container of (pod.spec.initContainers ?? []) as Obj[]) refs.push({ owner, podSpec: pod.spec, container, init: true, batch });
    for (const container of (pod.spec.containers ?? []) as Obj[]) refs.push({ owner, podSpec: pod.spec, container, init: false, batch });
  }
  return refs;
}

const isAppImage = (image: string) => splitImage(image)[0].split('/').pop() === 'page-stats';
const find = (objects: Obj[], kind: string, name: string): Obj => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`${kind} ${name} is missing`);
  return o;
};
/** ConfigMaps and Secrets are found by the name they had before kustomize added its hash. */
const findData = (objects: Obj[], kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> => {
  const o = objects.find((x) => x.kind === kind && (x.metadata.name === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(x.metadata.name)));
  if (o === undefined) throw new Error(`${kind} ${name} is missing`);
  const data = (o.data ?? {}) as Record<string, string>;
  return kind === 'Secret' ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : data;
};
const baseName = (name: string) => name.replace(/-[a-z0-9]{10}$/, '');
const matches = (selector: Obj, labels: Obj) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The environment a container gets: its env values and every key of its envFrom sources. */
function containerEnv(objects: Obj[], container: Obj): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of (container.envFrom ?? []) as Obj[]) {
    if (from.prefix !== undefined) throw new Error('envFrom prefix is not expected');
    if (from.configMapRef) Object.assign(env, findData(objects, 'ConfigMap', baseName(from.configMapRef.name)));
    if (from.secretRef) Object.assign(env, findData(objects, 'Secret', baseName(from.secretRef.name)));
  }
  for (const e of (container.env ?? []) as Obj[]) {
    if (e.value !== undefined || e.valueFrom === undefined) env[e.name] = String(e.value ?? '');
    else if (e.valueFrom.secretKeyRef) {
      const data = findData(objects, 'Secret', baseName(e.valueFrom.secretKeyRef.name));
      if (!(e.valueFrom.secretKeyRef.key in data)) throw new Error(`secret key ${e.valueFrom.secretKeyRef.key} is missing`);
      env[e.name] = data[e.valueFrom.secretKeyRef.key]!;
    } else if (e.valueFrom.configMapKeyRef) {
      const data = findData(objects, 'ConfigMap', baseName(e.valueFrom.configMapKeyRef.name));
      if (!(e.valueFrom.configMapKeyRef.key in data)) throw new Error(`config key ${e.valueFrom.configMapKeyRef.key} is missing`);
      env[e.name] = data[e.valueFrom.configMapKeyRef.key]!;
    } else env[e.name] = '<from the downward API>';
  }
  return env;
}

/** CPU in millicores, memory in bytes. */
function quantity(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G)?$/.exec(String(q));
  if (m === null) throw new Error(`unreadable quantity ${q}`);
  const factor: Record<string, number> = { '': 1, m: 0.001, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9 };
  return Number(m[1]) * factor[m[2] ?? '']!;
}

// ---------------------------------------------------------------------------------------------
// Schema validation, strict: kubernetes-models checks types and required fields; a proxy records
// which fields the schema looked at, so a misspelt field (`livenessProbee`) fails like
// `kubectl apply --validate=strict` would.

const MODELS: Record<string, { prototype: { validate(): void } }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'batch/v1/CronJob': CronJob,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

function validateStrict(o: Obj): string[] {
  const model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (model === undefined) return [`no schema known for ${o.apiVersion} ${o.kind}`];
  const visited: Array<{ path: string; value: Obj; read: Set<string> }> = [];
  const track = (value: Obj, path: string): Obj => {
    const read = new Set<string>();
    visited.push({ path, value, read });
    const children = new Map<string, Obj>();
    return new Proxy(value, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        if (typeof key !== 'string') return v;
        read.add(key);
        if (typeof v !== 'object' || v === null) return v;
        if (!children.has(key)) children.set(key, track(v as Obj, `${path}/${key}`));
        return children.get(key);
      },
    });
  };
  try {
    model.prototype.validate.call(track(structuredClone(o), ''));
  } catch (err) {
    return [(err as Error).message];
  }
  return visited.flatMap(({ path, value, read }) =>
    Array.isArray(value)
      ? []
      : Object.keys(value)
          .filter((k) => !read.has(k))
          .map((k) => `unknown field ${path}/${k}`),
  );
}

// ---------------------------------------------------------------------------------------------

describe('Kubernetes manifests (deploy/k8s)', () => {
  const allowedEnv = appEnvNames();

  it('reads the allowed variable names from the app', () => {
    for (const name of ['PORT', 'KAFKA_BROKERS', 'INFLUX_URL', 'DATABASE_URL', 'ADMIN_TOKEN', 'TRUST_PROXY']) expect(allowedEnv).toContain(name);
    const cli = readFileSync(join(ROOT, 'src', 'runtime', 'cli.ts'), 'utf8');
    for (const command of CLI_COMMANDS) expect(cli, `page-stats ${command}`).toContain(`case '${command}':`);
  });

  it.skipIf(kubectlRenders.kind === undefined)('the test renderer agrees with kubectl kustomize', () => {
    expect(withoutNameHashes(builtInRenders.base)).toEqual(withoutNameHashes(kubectlRenders.base!));
    expect(withoutNameHashes(builtInRenders.kind)).toEqual(withoutNameHashes(kubectlRenders.kind!));
  });

  describe.each([
    ['base', renders.base],
    ['kind overlay', renders.kind],
  ])('%s', (_name, objects) => {
    it('is valid against the Kubernetes schemas, with no unknown fields', () => {
      const problems = objects.flatMap((o) => validateStrict(o).map((p) => `${o.kind} ${o.metadata?.name}: ${p}`));
      expect(problems).toEqual([]);
    });

    it('puts everything in the page-stats namespace', () => {
      expect(find(objects, 'Namespace', NAMESPACE)).toBeDefined();
      for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(NAMESPACE);
    });

    it('has every part of the pipeline', () => {
      const ingest = find(objects, 'Deployment', 'ingest-service');
      // the HPA owns the replica count: a `replicas` here would reset it on every apply
      expect(ingest.spec.replicas).toBeUndefined();
      const hpa = find(objects, 'HorizontalPodAutoscaler', 'ingest-service');
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'ingest-service' });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.metrics).toContainEqual(expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }));
      find(objects, 'Deployment', 'processing-service');

      const influx = find(objects, 'Deployment', 'influxdb');
      expect(influx.spec.template.spec.containers[0].image).toBe('influxdb:1.8');
      const postgres = find(objects, 'Deployment', 'postgres');
      expect(postgres.spec.template.spec.containers[0].image).toBe('postgres:16');
      for (const store of [influx, postgres]) {
        const claim = (store.spec.template.spec.volumes as Obj[]).find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName;
        expect(find(objects, 'PersistentVolumeClaim', claim)).toBeDefined();
        expect(store.spec.strategy?.type, 'one pod per volume').toBe('Recreate');
      }

      // Kafka 4 in KRaft mode: brokers are their own controllers, and there is no ZooKeeper.
      const kafka = find(objects, 'StatefulSet', 'kafka');
      expect(kafka.spec.replicas).toBe(3);
      expect(kafka.spec.podManagementPolicy).toBe('Parallel');
      const broker = kafka.spec.template.spec.containers[0];
      expect(splitImage(broker.image)[0]).toBe('apache/kafka');
      const brokerEnv = Object.fromEntries((broker.env as Obj[]).map((e) => [e.name, e.value]));
      expect(brokerEnv.KAFKA_PROCESS_ROLES).toBe('broker,controller');
      expect(brokerEnv.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('0@kafka-0.kafka:9093,1@kafka-1.kafka:9093,2@kafka-2.kafka:9093');
      expect(kafka.spec.volumeClaimTemplates).toHaveLength(1);
      const headless = find(objects, 'Service', kafka.spec.serviceName);
      expect(headless.spec.clusterIP).toBe('None');
      expect(headless.spec.publishNotReadyAddresses).toBe(true);
      expect(JSON.stringify(objects)).not.toMatch(/zookeeper/i);

      const cron = find(objects, 'CronJob', 'consolidator-service');
      expect(cron.spec.concurrencyPolicy).toBe('Forbid');
      expect(cron.spec.jobTemplate.spec.backoffLimit).toBeGreaterThanOrEqual(1);
      expect(() => new Cron(cron.spec.schedule, { paused: true }).stop()).not.toThrow();
      find(objects, 'Job', 'migrate');
    });

    it('keeps Service links out of every pod (they would set NGINX_PORT=tcp://…, INFLUXDB_PORT=…)', () => {
      for (const o of objects) {
        const pod = podSpecOf(o);
        if (pod !== undefined) expect(pod.spec.enableServiceLinks, `${o.kind} ${o.metadata.name}`).toBe(false);
      }
    });

    it('gives every container, init containers included, resource requests and limits', () => {
      const containers = allContainers(objects);
      expect(containers.length).toBeGreaterThanOrEqual(8);
      for (const { owner, container } of containers) {
        const where = `${owner.kind} ${owner.metadata.name} / ${container.name}`;
        for (const resource of ['cpu', 'memory']) {
          const request = container.resources?.requests?.[resource];
          const limit = container.resources?.limits?.[resource];
          expect(request, `${where}: ${resource} request`).toBeDefined();
          expect(limit, `${where}: ${resource} limit`).toBeDefined();
          expect(quantity(request), `${where}: ${resource} request ≤ limit`).toBeLessThanOrEqual(quantity(limit));
        }
      }
    });

    it('runs every role from the one page-stats image, with a CLI command of the app', () => {
      const app = allContainers(objects).filter((c) => isAppImage(c.container.image));
      expect(new Set(app.map((c) => c.container.image)).size).toBe(1);
      const roles: Record<string, string> = {};
      for (const { owner, container, init } of app) {
        if (init) {
          // nginx's ui-files: copies the UI build and the nginx template out of the image
          expect(container.name).toBe('ui-files');
          expect(container.command.join(' ')).toMatch(/cp -R dist\/dashboard dist\/tracker \S+ && cp ui\/nginx\.conf \S+\/nginx\.conf\.template/);
          continue;
        }
        expect(container.command, `${owner.metadata.name}: the image's ENTRYPOINT runs the CLI`).toBeUndefined();
        const [command, ...rest] = container.args as string[];
        expect(CLI_COMMANDS).toContain(command);
        if (command === 'consolidate') expect(rest.filter((a) => !/^--(from|to)(=|$)|^\d{4}-\d\d-\d\d$/.test(a))).toEqual([]);
        else expect(rest).toEqual([]);
        roles[owner.metadata.name] = command!;
        expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
      }
      expect(roles).toEqual({ 'ingest-service': 'ingest', 'processing-service': 'processing', 'consolidator-service': 'consolidate', migrate: 'migrate' });
      for (const { owner, podSpec, container } of app) {
        expect(podSpec.securityContext?.runAsNonRoot ?? container.securityContext?.runAsNonRoot, `${owner.metadata.name}: non-root`).toBe(true);
      }
    });

    it('probes every long-running app container on /healthz and /readyz', () => {
      const services = allContainers(objects).filter((c) => isAppImage(c.container.image) && !c.init && !c.batch);
      expect(services.map((c) => c.owner.metadata.name).sort()).toEqual(['ingest-service', 'processing-service']);
      for (const { owner, container } of services) {
        const port = Number(containerEnv(objects, container).PORT ?? 8080);
        const http = (container.ports as Obj[]).find((p) => p.containerPort === port);
        expect(http, `${owner.metadata.name}: listens on PORT`).toBeDefined();
        for (const [probe, path] of [
          ['livenessProbe', '/healthz'],
          ['readinessProbe', '/readyz'],
        ] as const) {
          expect(container[probe]?.httpGet?.path, `${owner.metadata.name} ${probe}`).toBe(path);
          expect([http!.name, http!.containerPort]).toContain(container[probe].httpGet.port);
        }
      }
      // and the stores, Kafka and nginx have probes of their own
      for (const { owner, container } of allContainers(objects).filter((c) => !isAppImage(c.container.image))) {
        expect(container.livenessProbe, `${owner.metadata.name} liveness`).toBeDefined();
        expect(container.readinessProbe, `${owner.metadata.name} readiness`).toBeDefined();
      }
    });

    it('sets only variables the app reads, with values it accepts', () => {
      const app = allContainers(objects).filter((c) => isAppImage(c.container.image) && !c.init);
      for (const { owner, container } of app) {
        const env = containerEnv(objects, container);
        const unknown = Object.keys(env).filter((name) => !allowedEnv.has(name));
        expect(unknown, `${owner.metadata.name} sets variables the app does not read`).toEqual([]);
      }
      for (const name of Object.keys(findData(objects, 'ConfigMap', 'page-stats-config'))) expect(allowedEnv, 'page-stats-config').toContain(name);
      expect(Object.keys(findData(objects, 'Secret', 'page-stats-secrets')).sort()).toEqual([
        'ADMIN_PASSWORD',
        'ADMIN_TOKEN',
        'DATABASE_URL',
        'INFLUX_PASSWORD',
        'INFLUX_USERNAME',
      ]);

      const ingestEnv = containerEnv(objects, find(objects, 'Deployment', 'ingest-service').spec.template.spec.containers[0]);
      if (objects === renders.base) {
        // the base's placeholder token is refused: nothing starts until real secrets replace it
        expect(() => loadConfig(ingestEnv)).toThrow(/ADMIN_TOKEN/);
      } else {
        const config = loadConfig(ingestEnv);
        expect(config.kafka?.brokers).toHaveLength(3);
        expect(config.trustProxy).toEqual({ kind: 'hops', hops: 1 });
      }
    });

    it('wires the app to the stores and nginx to the app by Service names', () => {
      const config = findData(objects, 'ConfigMap', 'page-stats-config');
      const secrets = findData(objects, 'Secret', 'page-stats-secrets');
      const servicePort = (name: string, port: number) => {
        const service = find(objects, 'Service', name);
        expect(
          (service.spec.ports as Obj[]).map((p) => p.port),
          `Service ${name}`,
        ).toContain(port);
        return service;
      };
      const kafka = find(objects, 'StatefulSet', 'kafka');
      for (const broker of config.KAFKA_BROKERS!.split(',')) {
        const m = /^kafka-(\d+)\.([a-z-]+):(\d+)$/.exec(broker);
        expect(m, broker).not.toBeNull();
        expect(Number(m![1])).toBeLessThan(kafka.spec.replicas);
        expect(m![2]).toBe(kafka.spec.serviceName);
        servicePort(m![2]!, Number(m![3]));
      }
      const influx = new URL(config.INFLUX_URL!);
      servicePort(influx.hostname, Number(influx.port));
      const database = new URL(secrets.DATABASE_URL!);
      servicePort(database.hostname, Number(database.port));
      const pg = findData(objects, 'Secret', 'postgres-credentials');
      expect(decodeURIComponent(database.username)).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(database.password)).toBe(pg.POSTGRES_PASSWORD);
      expect(database.pathname).toBe(`/${pg.POSTGRES_DB}`);

      const nginx = find(objects, 'Deployment', 'nginx');
      const proxy = (nginx.spec.template.spec.containers as Obj[]).find((c) => c.name === 'nginx')!;
      const env = Object.fromEntries((proxy.env as Obj[]).map((e) => [e.name, e.value as string]));
      for (const name of nginxTemplateVariables()) expect(env, `nginx needs ${name} for ui/nginx.conf`).toHaveProperty(name);
      expect(proxy.ports[0].containerPort).toBe(Number(env.NGINX_PORT));
      const [host, port] = env.APP_UPSTREAM!.split(':');
      const ingest = servicePort(host!, Number(port));
      expect(matches(ingest.spec.selector, find(objects, 'Deployment', 'ingest-service').spec.template.metadata.labels)).toBe(true);
      // the official image renders /etc/nginx/templates/*.template into NGINX_ENVSUBST_OUTPUT_DIR
      expect(proxy.args).toEqual([
        'nginx',
        '-p',
        `${env.NGINX_ENVSUBST_OUTPUT_DIR}/`,
        '-c',
        `${env.NGINX_ENVSUBST_OUTPUT_DIR}/nginx.conf`,
        '-e',
        'stderr',
        '-g',
        'daemon off;',
      ]);
      const mountOf = (c: Obj, path: string) => (c.volumeMounts as Obj[]).find((m) => m.mountPath === path)?.name;
      const uiFiles = (nginx.spec.template.spec.initContainers as Obj[])[0]!;
      const [, uiTarget, templateTarget] = /(\S+)\/ && cp ui\/nginx\.conf (\S+)\/nginx\.conf\.template/.exec(uiFiles.command.join(' '))!;
      expect(mountOf(uiFiles, uiTarget!)).toBe(mountOf(proxy, env.UI_ROOT!));
      expect(mountOf(uiFiles, templateTarget!)).toBe(mountOf(proxy, '/etc/nginx/templates'));
      expect(mountOf(proxy, env.NGINX_ENVSUBST_OUTPUT_DIR!)).toBeDefined();

      // only nginx may reach ingest-service: its X-Forwarded-For is the one TRUST_PROXY=1 trusts
      expect(config.TRUST_PROXY).toBe('1');
      const policy = find(objects, 'NetworkPolicy', 'ingest-service');
      expect(matches(policy.spec.podSelector.matchLabels, find(objects, 'Deployment', 'ingest-service').spec.template.metadata.labels)).toBe(true);
      expect(policy.spec.ingress).toHaveLength(1);
      expect(matches(policy.spec.ingress[0].from[0].podSelector.matchLabels, nginx.spec.template.metadata.labels)).toBe(true);
    });

    it('mounts no service account token into any pod: nothing here talks to the Kubernetes API', () => {
      for (const o of objects) {
        const pod = podSpecOf(o);
        if (pod !== undefined) expect(pod.spec.automountServiceAccountToken, `${o.kind} ${o.metadata.name}`).toBe(false);
      }
    });

    it('keeps a replica of nginx, ingest, processing and two Kafka brokers up through a drain', () => {
      for (const name of ['nginx', 'ingest-service', 'processing-service', 'kafka']) {
        const pdb = find(objects, 'PodDisruptionBudget', name);
        const workload = objects.find((o) => ['Deployment', 'StatefulSet'].includes(o.kind) && o.metadata.name === name)!;
        expect(matches(pdb.spec.selector.matchLabels, workload.spec.template.metadata.labels), name).toBe(true);
        const replicas = (workload.spec.replicas as number | undefined) ?? find(objects, 'HorizontalPodAutoscaler', name).spec.minReplicas;
        const allowed = pdb.spec.maxUnavailable ?? replicas - pdb.spec.minAvailable;
        expect(allowed, `${name}: a drain may move a pod`).toBeGreaterThanOrEqual(1);
        expect(allowed, `${name}: not all at once`).toBeLessThan(replicas);
      }
    });

    it('removes finished Jobs after a while (ttlSecondsAfterFinished)', () => {
      expect(find(objects, 'Job', 'migrate').spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
      expect(find(objects, 'CronJob', 'consolidator-service').spec.jobTemplate.spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    });

    it('creates the topic with as many replicas as there are brokers, and more than min.insync.replicas', () => {
      const config = findData(objects, 'ConfigMap', 'page-stats-config');
      const kafka = find(objects, 'StatefulSet', 'kafka');
      const brokerEnv = Object.fromEntries((kafka.spec.template.spec.containers[0].env as Obj[]).map((e) => [e.name, e.value]));
      expect(Number(config.KAFKA_REPLICATION_FACTOR)).toBeLessThanOrEqual(kafka.spec.replicas);
      expect(Number(config.KAFKA_REPLICATION_FACTOR)).toBeGreaterThan(Number(brokerEnv.KAFKA_MIN_INSYNC_REPLICAS));
    });

    it('runs InfluxDB with authentication, and the app logs in as the admin the image creates', () => {
      const influx = find(objects, 'Deployment', 'influxdb').spec.template.spec.containers[0];
      const env = containerEnv(objects, influx);
      expect(env.INFLUXDB_HTTP_AUTH_ENABLED).toBe('true');
      const secrets = findData(objects, 'Secret', 'page-stats-secrets');
      expect([secrets.INFLUX_USERNAME, secrets.INFLUX_PASSWORD]).toEqual([env.INFLUXDB_ADMIN_USER, env.INFLUXDB_ADMIN_PASSWORD]);
      for (const name of ['ingest-service', 'processing-service', 'consolidator-service']) {
        const workload = objects.find((o) => podSpecOf(o) !== undefined && o.metadata.name === name)!;
        const app = containerEnv(objects, podSpecOf(workload)!.spec.containers[0]);
        expect([app.INFLUX_USERNAME, app.INFLUX_PASSWORD], name).toEqual([secrets.INFLUX_USERNAME, secrets.INFLUX_PASSWORD]);
      }
    });

    it('denies all traffic by default and allows exactly what the pipeline needs (NetworkPolicies)', () => {
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
      expect(policies.some((p) => Object.keys(p.spec.podSelector).length === 0 && ['Ingress', 'Egress'].every((t) => p.spec.policyTypes.includes(t)))).toBe(
        true,
      );
      const labelsOf = (name: string): Obj => podSpecOf(objects.find((o) => podSpecOf(o) !== undefined && o.metadata.name === name)!)!.labels;
      const portMatches = (rulePorts: Obj[] | undefined, port: number, protocol: string) =>
        rulePorts === undefined || rulePorts.some((p) => (p.port === undefined || p.port === port) && (p.protocol ?? 'TCP') === protocol);
      /** A peer: a pod of this namespace (its labels), or anything outside it (undefined). */
      const peerMatches = (peers: Obj[] | undefined, labels: Obj | undefined) =>
        peers === undefined ||
        peers.some((peer) =>
          peer.namespaceSelector !== undefined
            ? Object.keys(peer.namespaceSelector).length === 0 &&
              (peer.podSelector === undefined || (labels !== undefined && matches(peer.podSelector.matchLabels ?? {}, labels)))
            : labels !== undefined && matches(peer.podSelector?.matchLabels ?? {}, labels),
        );
      const allows = (direction: 'Ingress' | 'Egress', self: Obj, other: Obj | undefined, port: number, protocol: string): boolean => {
        const selecting = policies.filter((p) => matches(p.spec.podSelector.matchLabels ?? {}, self) && p.spec.policyTypes.includes(direction));
        if (selecting.length === 0) return true; // not isolated in this direction
        const rules = selecting.flatMap((p) => (direction === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []) as Obj[];
        return rules.some((r) => peerMatches(direction === 'Ingress' ? r.from : r.to, other) && portMatches(r.ports, port, protocol));
      };
      /** `from`/`to`: a workload's name, or undefined for the world outside the namespace (visitors, DNS). */
      const reaches = (from: string | undefined, to: string | undefined, port: number, protocol = 'TCP') => {
        const a = from === undefined ? undefined : labelsOf(from);
        const b = to === undefined ? undefined : labelsOf(to);
        return (a === undefined || allows('Egress', a, b, port, protocol)) && (b === undefined || allows('Ingress', b, a, port, protocol));
      };
      const needed: Array<[string | undefined, string | undefined, number]> = [
        [undefined, 'nginx', 8080],
        ['nginx', 'ingest-service', 8080],
        ...['ingest-service', 'processing-service', 'migrate'].map((app): [string, string, number] => [app, 'kafka', 9092]),
        ...['ingest-service', 'processing-service', 'consolidator-service'].map((app): [string, string, number] => [app, 'influxdb', 8086]),
        ...['ingest-service', 'processing-service', 'consolidator-service', 'migrate'].map((app): [string, string, number] => [app, 'postgres', 5432]),
        ['kafka', 'kafka', 9092],
        ['kafka', 'kafka', 9093],
      ];
      for (const [from, to, port] of needed) expect(reaches(from, to, port), `${from ?? 'outside'} → ${to ?? 'outside'}:${port}`).toBe(true);
      for (const pod of ['nginx', 'ingest-service', 'processing-service', 'consolidator-service', 'migrate', 'kafka', 'influxdb', 'postgres']) {
        expect(reaches(pod, undefined, 53, 'UDP'), `${pod} → DNS`).toBe(true);
      }
      const denied: Array<[string | undefined, string | undefined, number]> = [
        [undefined, 'ingest-service', 8080], // TRUST_PROXY=1 relies on it
        [undefined, 'postgres', 5432],
        [undefined, 'kafka', 9092],
        ['nginx', 'postgres', 5432],
        ['consolidator-service', 'kafka', 9092],
        ['ingest-service', undefined, 443], // no way out of the cluster
        ['processing-service', 'ingest-service', 8080],
      ];
      for (const [from, to, port] of denied) expect(reaches(from, to, port), `${from ?? 'outside'} → ${to ?? 'outside'}:${port}`).toBe(false);
    });

    it('selects pods with every Service, PodDisruptionBudget and volume reference', () => {
      const workloads = objects.map((o) => ({ o, pod: podSpecOf(o) })).filter((w) => w.pod !== undefined);
      for (const service of objects.filter((o) => o.kind === 'Service')) {
        const targets = workloads.filter((w) => matches(service.spec.selector, w.pod!.labels));
        expect(targets.length, `Service ${service.metadata.name} selects pods`).toBeGreaterThan(0);
        const ports = targets.flatMap((w) => (w.pod!.spec.containers as Obj[]).flatMap((c) => (c.ports ?? []) as Obj[]));
        for (const p of service.spec.ports as Obj[]) {
          const target = p.targetPort ?? p.port;
          expect(
            ports.some((cp) => cp.name === target || cp.containerPort === target),
            `Service ${service.metadata.name} port ${target}`,
          ).toBe(true);
        }
      }
      for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
        expect(
          workloads.some((w) => matches(pdb.spec.selector.matchLabels, w.pod!.labels)),
          `PDB ${pdb.metadata.name}`,
        ).toBe(true);
      }
      for (const w of workloads) {
        const volumes = new Set(((w.pod!.spec.volumes ?? []) as Obj[]).map((v) => v.name));
        for (const claim of (w.o.spec.volumeClaimTemplates ?? []) as Obj[]) volumes.add(claim.metadata.name);
        for (const v of (w.pod!.spec.volumes ?? []) as Obj[]) {
          if (v.persistentVolumeClaim) find(objects, 'PersistentVolumeClaim', v.persistentVolumeClaim.claimName);
        }
        for (const c of [...((w.pod!.spec.initContainers ?? []) as Obj[]), ...(w.pod!.spec.containers as Obj[])]) {
          for (const m of (c.volumeMounts ?? []) as Obj[]) expect(volumes, `${w.o.metadata.name}/${c.name} mounts ${m.name}`).toContain(m.name);
        }
      }
    });
  });

  it('base: nginx is a LoadBalancer Service that keeps client addresses', () => {
    const service = find(renders.base, 'Service', 'nginx');
    expect(service.spec.type).toBe('LoadBalancer');
    expect(service.spec.externalTrafficPolicy).toBe('Local');
  });

  it('kind: the image up.sh builds, and nginx on the port cluster.yaml maps to localhost', () => {
    const images = new Set(
      allContainers(renders.kind)
        .filter((c) => isAppImage(c.container.image))
        .map((c) => c.container.image),
    );
    expect([...images]).toEqual(['page-stats:dev']);
    const service = find(renders.kind, 'Service', 'nginx');
    expect(service.spec.type).toBe('NodePort');
    const nodePort = service.spec.ports[0].nodePort as number;

    const cluster = parse(readFileSync(join(ROOT, 'deploy', 'kind', 'cluster.yaml'), 'utf8')) as Obj;
    expect(cluster).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4' });
    expect(cluster.nodes).toHaveLength(1); // externalTrafficPolicy: Local needs nginx on the mapped node
    expect(cluster.nodes[0].extraPortMappings).toContainEqual(expect.objectContaining({ containerPort: nodePort, hostPort: 8080 }));

    const upSh = join(ROOT, 'deploy', 'kind', 'up.sh');
    expect(spawnSync('bash', ['-n', upSh]).status).toBe(0);
    expect(statSync(upSh).mode & 0o111).not.toBe(0);
    const script = readFileSync(upSh, 'utf8');
    const steps = [
      /kind create cluster [^\n]*--config deploy\/kind\/cluster\.yaml/,
      /docker build -t page-stats:dev \./,
      // loading straight from Docker fails with Docker's containerd image store
      /docker save -o "\$archive" page-stats:dev/,
      /kind load image-archive "\$archive"/,
      /apply -k deploy\/k8s\/overlays\/kind/,
      /rollout status/,
    ].map((step) => {
      const at = script.search(step);
      expect(at, String(step)).toBeGreaterThanOrEqual(0);
      return at;
    });
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(script).not.toMatch(/kind load docker-image/);
    // kind runs what its release was built with only when the node image is pinned by digest
    expect(cluster.nodes[0].image).toMatch(/^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
  });

  describe('deploy/kind/up.sh with docker, kind and kubectl that record their calls', () => {
    /** Runs up.sh against stand-ins; `job` is what kubectl says of the migrate Job: "<succeeded>/<failed>". */
    function upSh(job: string): { status: number | null; stderr: string; calls: string[] } {
      const dir = mkdtempSync(join(tmpdir(), 'page-stats-up-sh-'));
      try {
        const log = join(dir, 'calls');
        const stub = (name: string, body: string) => {
          writeFileSync(join(dir, name), `#!/usr/bin/env bash\necho "${name} $*" >> "${log}"\n${body}\n`, { mode: 0o755 });
        };
        stub('docker', '');
        stub('kind', 'if [[ $1 == get ]]; then echo page-stats; fi');
        stub(
          'kubectl',
          `case "$*" in *"get job/migrate"*) echo "${job}" ;; *"logs job/migrate"*) echo "migrate_failed: password authentication failed for user page_stats" ;; esac`,
        );
        const run = spawnSync('bash', [join(ROOT, 'deploy', 'kind', 'up.sh')], {
          env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
          encoding: 'utf8',
          timeout: 60_000,
        });
        return { status: run.status, stderr: run.stderr, calls: readFileSync(log, 'utf8').trim().split('\n') };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    it('loads the image through an archive, applies, waits for the migration, then the rollouts', () => {
      const { status, calls } = upSh('1/');
      expect(status).toBe(0);
      const save = calls.findIndex((c) => /^docker save -o \S+\.tar page-stats:dev$/.test(c));
      const load = calls.findIndex((c) => /^kind load image-archive \S+\.tar --name page-stats$/.test(c));
      const apply = calls.findIndex((c) => c.endsWith('apply -k deploy/k8s/overlays/kind'));
      const rollout = calls.findIndex((c) => c.includes('rollout status deployment/ingest-service'));
      expect([save, load, apply, rollout].every((i) => i >= 0)).toBe(true);
      expect([save, load, apply, rollout]).toEqual([save, load, apply, rollout].sort((a, b) => a - b));
    });

    it('stops at the first failed migration and shows its log, without waiting for the rollouts', () => {
      const { status, stderr, calls } = upSh('/1');
      expect(status).toBe(1);
      expect(stderr).toMatch(/the migration failed/);
      expect(stderr).toMatch(/password authentication failed/);
      expect(calls.some((c) => c.includes('rollout status deployment/ingest-service'))).toBe(false);
    });
  });
});
