import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers/process.js';

// How the Kubernetes base (deploy/k8s/base) runs a container, turned into `docker run` options:
// the smoke test runs the image the way the manifests say (user, read-only root filesystem,
// capabilities, emptyDirs, command, and which variables each role gets).

type Obj = Record<string, any>;

const BASE = join(ROOT, 'deploy', 'k8s', 'base');

const objects: Obj[] = readdirSync(BASE)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) => parseAllDocuments(readFileSync(join(BASE, f), 'utf8')).map((d) => d.toJS() as Obj))
  .filter((o) => o !== null);

/** page-stats-config: the base's page-stats.env. */
export const CONFIG: Record<string, string> = Object.fromEntries(
  readFileSync(join(BASE, 'page-stats.env'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

/** The keys of each generated Secret (their values are placeholders; the test sets its own). */
const SECRET_KEYS: Record<string, string[]> = Object.fromEntries(
  ((parse(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8')) as Obj).secretGenerator as Obj[]).map((g) => [
    g.name as string,
    (g.literals as string[]).map((l) => l.slice(0, l.indexOf('='))),
  ]),
);

export interface PodContainer {
  /** `docker run` options: --user, --read-only, --cap-drop, no-new-privileges, a tmpfs per emptyDir */
  options: string[];
  /** the variable names the container gets */
  envNames: string[];
  /** values the manifest writes into the container's env */
  envValues: Record<string, string>;
  command: string[] | undefined;
  args: string[];
}

function podSpecOf(o: Obj): Obj {
  return o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
}

export function podContainer(kind: string, name: string, containerName: string, options: { init?: boolean; mountedElsewhere?: string[] } = {}): PodContainer {
  const workload = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (workload === undefined) throw new Error(`${kind} ${name} is not in deploy/k8s/base`);
  const pod = podSpecOf(workload);
  const container = ((options.init ? pod.initContainers : pod.containers) as Obj[]).find((c) => c.name === containerName);
  if (container === undefined) throw new Error(`${kind} ${name} has no container ${containerName}`);
  const security = { ...(pod.securityContext ?? {}), ...(container.securityContext ?? {}) } as Obj;

  const docker: string[] = [];
  if (security.runAsUser !== undefined) docker.push('--user', `${security.runAsUser}:${security.runAsGroup ?? security.runAsUser}`);
  if (security.readOnlyRootFilesystem === true) docker.push('--read-only');
  for (const cap of (security.capabilities?.drop ?? []) as string[]) docker.push('--cap-drop', cap);
  if (security.allowPrivilegeEscalation === false) docker.push('--security-opt', 'no-new-privileges');
  const emptyDirs = new Set(((pod.volumes ?? []) as Obj[]).filter((v) => v.emptyDir !== undefined).map((v) => v.name as string));
  for (const mount of (container.volumeMounts ?? []) as Obj[]) {
    if (emptyDirs.has(mount.name) && !(options.mountedElsewhere ?? []).includes(mount.mountPath)) docker.push('--tmpfs', `${mount.mountPath}:mode=1777`);
  }

  const envNames = new Set<string>();
  const envValues: Record<string, string> = {};
  for (const from of (container.envFrom ?? []) as Obj[]) {
    if (from.configMapRef?.name === 'page-stats-config') for (const key of Object.keys(CONFIG)) envNames.add(key);
    if (from.secretRef) for (const key of SECRET_KEYS[from.secretRef.name] ?? []) envNames.add(key);
  }
  for (const e of (container.env ?? []) as Obj[]) {
    envNames.add(e.name);
    if (e.value !== undefined) envValues[e.name] = String(e.value);
  }

  return { options: docker, envNames: [...envNames], envValues, command: container.command, args: container.args ?? [] };
}

/** The container's environment: the manifest's values, with the addresses and secrets of the test. */
export function environment(pod: PodContainer, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(pod.envNames.map((name) => [name, values[name] ?? pod.envValues[name] ?? CONFIG[name] ?? '']).filter(([, v]) => v !== ''));
}
