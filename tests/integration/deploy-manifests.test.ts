/**
 * deploy/kubernetes/: every manifest is a valid object of its kind (by the Kubernetes client's own models), and it
 * agrees with the code: env names with the config schema and the providers' settings, images with each other and the
 * Dockerfiles, ports with PORT and the Service, probes with the api's routes, RBAC with the calls the provider makes.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { createApp } from "../../server/app";
import { ConfigError, loadConfig, projectRoot } from "../../src/config";
import { MANAGED_BY } from "../../src/providers/kubernetes/names";
import { kubernetesOptionsFromEnv } from "../../src/providers/kubernetes/options";
import { parseInventory } from "../../src/providers/local/inventory";
import { freshDatabase } from "../support/db";
import { testConfig } from "../support/factories";

type Doc = Record<string, any>;
interface Manifest {
  file: string;
  raw: Doc;
  object: k8s.KubernetesObject;
}

const deployDir = join(projectRoot, "deploy", "kubernetes");
const yamlFiles = readdirSync(deployDir)
  .filter((file) => file.endsWith(".yaml"))
  .sort();
/** Applied on their own, each for its reason (see the files): the Secrets hold placeholders, the Job runs first. */
const appliedAlone = ["secret.template.yaml", "migrate-job.yaml"];

const manifests: Manifest[] = yamlFiles
  .filter((file) => file !== "kustomization.yaml")
  .flatMap((file) => {
    const text = readFileSync(join(deployDir, file), "utf8");
    const objects = k8s.loadAllYaml(text) as k8s.KubernetesObject[];
    const raws = [Bun.YAML.parse(text)].flat() as Doc[];
    if (raws.length !== objects.length) throw new Error(`${file}: the two YAML readers disagree on its documents`);
    return raws.map((raw, i) => ({ file, raw, object: objects[i]! }));
  });

const ofKind = (kind: string) => manifests.filter((m) => m.raw.kind === kind).map((m) => m.raw);
const named = (kind: string, name: string) => {
  const found = ofKind(kind).find((doc) => doc.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found;
};

// --- Validity, by the client's generated models -------------------------------------------------------------------

type Attribute = { name: string; baseName: string; type: string };
type Model = { getAttributeTypeMap(): Attribute[] };
const models = k8s as unknown as Record<string, unknown>;
const modelOf = (type: string): Model | undefined => {
  const candidate = models[type];
  return typeof candidate === "function" && "getAttributeTypeMap" in candidate ? (candidate as unknown as Model) : undefined;
};

/** A model's required fields, as its declaration marks them (`'containers': Array<V1Container>` against `'image'?: string`). */
const modelsDir = join(dirname(fileURLToPath(import.meta.resolve("@kubernetes/client-node"))), "gen", "models");
const requiredCache = new Map<string, string[]>();
function requiredFields(type: string, attributes: Attribute[]): string[] {
  if (!requiredCache.has(type)) {
    const declaration = readFileSync(join(modelsDir, `${type}.d.ts`), "utf8");
    const names = [...declaration.matchAll(/^\s+'(\w+)': /gm)].map((match) => match[1]!);
    requiredCache.set(
      type,
      names.map((name) => attributes.find((a) => a.name === name)?.baseName ?? name),
    );
  }
  return requiredCache.get(type)!;
}

const isObject = (value: unknown): value is Doc => typeof value === "object" && value !== null && !Array.isArray(value);

/** Every field known to its model, of the model's type, and every required one present. */
function problemsOf(value: unknown, type: string, path: string): string[] {
  if (value === undefined || value === null) return [];
  const list = /^Array<(.+)>$/.exec(type);
  if (list) return Array.isArray(value) ? value.flatMap((item, i) => problemsOf(item, list[1]!, `${path}[${i}]`)) : [`${path}: not a list`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return isObject(value) ? Object.entries(value).flatMap(([key, item]) => problemsOf(item, map[1]!, `${path}.${key}`)) : [`${path}: not a map`];
  const scalar: Record<string, (v: unknown) => boolean> = {
    string: (v) => typeof v === "string",
    Date: (v) => typeof v === "string",
    number: (v) => typeof v === "number",
    boolean: (v) => typeof v === "boolean",
    IntOrString: (v) => typeof v === "string" || typeof v === "number",
    any: () => true,
  };
  if (scalar[type]) return scalar[type](value) ? [] : [`${path}: not a ${type}`];
  const model = modelOf(type);
  if (!model) return [`${path}: ${type} is no model of the client`];
  if (!isObject(value)) return [`${path}: not an object (${type})`];
  const attributes = model.getAttributeTypeMap();
  const fields = Object.entries(value).flatMap(([key, item]) => {
    const attribute = attributes.find((a) => a.baseName === key);
    return attribute ? problemsOf(item, attribute.type, `${path}.${key}`) : [`${path}.${key}: no such field in ${type}`];
  });
  const missing = requiredFields(type, attributes)
    .filter((key) => value[key] === undefined)
    .map((key) => `${path}.${key}: required by ${type}`);
  return [...fields, ...missing];
}

/** The model the client names for an apiVersion and kind (`apps/v1` + `Deployment` → `V1Deployment`). */
function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split("/").at(-1)!;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

const clusterScoped = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding"]);

describe("every manifest", () => {
  test("there are manifests, and kustomization.yaml applies all but the Secrets' template and the migration Job", () => {
    expect(manifests.length).toBeGreaterThan(5);
    const kustomization = Bun.YAML.parse(readFileSync(join(deployDir, "kustomization.yaml"), "utf8")) as Doc;
    expect(kustomization.kind).toBe("Kustomization");
    expect(kustomization.namespace).toBeUndefined();
    const others = yamlFiles.filter((file) => file !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(others.filter((file) => !appliedAlone.includes(file)));
    for (const file of appliedAlone) expect(others).toContain(file);
  });

  test.each(manifests.map((m) => [`${m.file}: ${m.raw.kind} ${m.raw.metadata?.name}`, m] as const))("%s is a valid object of its kind", (_, m) => {
    const type = modelName(m.raw.apiVersion, m.raw.kind);
    expect(modelOf(type)).toBeDefined();
    // loadAllYaml made an instance of that model: apiVersion and kind are ones the client knows.
    expect(m.object.constructor).toBe(models[type] as typeof m.object.constructor);
    expect(problemsOf(m.raw, type, m.raw.kind)).toEqual([]);
    expect(m.raw.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    const namespaces = ofKind("Namespace").map((ns) => ns.metadata.name);
    if (clusterScoped.has(m.raw.kind)) expect(m.raw.metadata.namespace).toBeUndefined();
    else expect(namespaces).toContain(m.raw.metadata.namespace);
    // That label marks the Kubernetes provider's own pods; on the control plane it would be taken for one.
    expect(m.raw.metadata.labels?.[MANAGED_BY.key]).toBeUndefined();
  });
});

// --- Workloads: images, commands, env, ports, probes --------------------------------------------------------------

const workloads = [...ofKind("Deployment"), ...ofKind("Job")];
const podSpecs = workloads.map((w) => ({ name: w.metadata.name as string, spec: w.spec.template.spec as Doc }));
const containers = podSpecs.flatMap(({ name, spec }) => [...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c: Doc) => ({ workload: name, c })));
const apiDeployment = named("Deployment", "qdz-api");
const apiContainer = apiDeployment.spec.template.spec.containers.find((c: Doc) => c.name === "api") as Doc;
const configMap = named("ConfigMap", "qdz-config");
const packageJson = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8"));

/** The environment a container gets: its ConfigMaps' and Secrets' keys (envFrom) and its own entries. */
function envOf(container: Doc): Map<string, string> {
  const env = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const source = from.configMapRef ? named("ConfigMap", from.configMapRef.name) : named("Secret", from.secretRef.name);
    for (const [key, value] of Object.entries({ ...source.data, ...source.stringData })) env.set(key, String(value));
  }
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef ?? entry.valueFrom?.configMapKeyRef;
    if (ref) {
      const source = entry.valueFrom.secretKeyRef ? named("Secret", ref.name) : named("ConfigMap", ref.name);
      const value = { ...source.data, ...source.stringData }[ref.key];
      if (value === undefined) throw new Error(`${container.name}: ${entry.name} names ${ref.name}'s key ${ref.key}, which it does not have`);
      env.set(entry.name, String(value));
    } else env.set(entry.name, entry.value ?? "");
  }
  return env;
}

/** A setting the config schema knows: it keeps it, or it refuses a value of it naming it. */
function configKnows(name: string): boolean {
  try {
    return name in loadConfig({ [name]: "probe" });
  } catch (error) {
    return error instanceof ConfigError && error.message.includes(`  ${name}:`);
  }
}

/** The settings each provider reads from the environment (`env.X`, `value("X")`, a schema's `X:` key). */
const providerSettings = new Set(
  readdirSync(join(projectRoot, "src", "providers"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const path = join(projectRoot, "src", "providers", entry.name, "options.ts");
      const text = (() => {
        try {
          return readFileSync(path, "utf8");
        } catch {
          return "";
        }
      })();
      return [...text.matchAll(/(?:env\.|value\("|number\(")([A-Z][A-Z0-9_]+)|^\s+([A-Z][A-Z0-9_]+): /gm)].map((m) => (m[1] ?? m[2])!);
    }),
);
/** Read by Bun itself, not the platform: the /v1 proxy's ceiling on outgoing requests (server/supervisor.ts sets it too). */
const runtimeSettings = new Set(["BUN_CONFIG_MAX_HTTP_REQUESTS"]);

const imageParts = (image: string) => {
  const at = image.lastIndexOf(":");
  return { repository: image.slice(0, at), tag: image.slice(at + 1) };
};

describe("workloads", () => {
  test("api, workers and the migration run the control-plane image with package.json's commands", () => {
    const scripts: Record<string, string> = { "qdz-api": "api", "qdz-workers": "workers", "qdz-migrate": "migrate" };
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual(Object.keys(scripts).sort());
    for (const { workload, c } of containers) {
      expect(c.image).toBe(apiContainer.image);
      expect(c.command.join(" ")).toBe(packageJson.scripts[scripts[workload]!]);
      expect(readFileSync(join(projectRoot, c.command[1]), "utf8").length).toBeGreaterThan(0);
    }
    expect(imageParts(apiContainer.image).tag).not.toBe("latest");
  });

  test("the agent image is KUBERNETES_AGENT_IMAGE: beside the control plane's, with its tag", () => {
    const agent = imageParts(configMap.data.KUBERNETES_AGENT_IMAGE);
    const control = imageParts(apiContainer.image);
    expect(agent.tag).toBe(control.tag);
    expect(dirname(agent.repository)).toBe(dirname(control.repository));
    expect(agent.repository).not.toBe(control.repository);
  });

  test("both Dockerfiles build on the oven/bun image of the Bun that package-lock.json pins", () => {
    const bun = JSON.parse(readFileSync(join(projectRoot, "package-lock.json"), "utf8")).packages["node_modules/bun"].version;
    for (const file of ["Dockerfile", "pods/agent/Dockerfile"]) {
      const froms = [...readFileSync(join(projectRoot, file), "utf8").matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
      expect(froms.length).toBeGreaterThan(0);
      for (const from of froms) expect(from).toMatch(new RegExp(`^oven/bun:${bun.replaceAll(".", "\\.")}(-slim)?$`));
    }
  });

  test("every env name is a setting of the config schema, a provider's, or Bun's", () => {
    expect(providerSettings).toContain("KUBERNETES_NAMESPACE");
    for (const { workload, c } of containers) {
      const unknown = [...envOf(c).keys()].filter((name) => !configKnows(name) && !providerSettings.has(name) && !runtimeSettings.has(name));
      expect({ workload, unknown }).toEqual({ workload, unknown: [] });
    }
  });

  test("only the migration gets the schema owner's credential; the api and the workers connect as the app role", () => {
    for (const { workload, c } of containers) {
      const env = envOf(c);
      expect(env.has("DATABASE_URL")).toBe(true);
      expect(env.has("DATABASE_OWNER_URL")).toBe(workload === "qdz-migrate");
    }
  });

  test("the ConfigMap parses as the config schema does, runs no local pods and turns the cluster's provider on", () => {
    const settings = loadConfig({ ...configMap.data, DATABASE_URL: "postgres://qdz_app:secret@db:5432/qdz" });
    expect(settings.HOST).toBe("0.0.0.0");
    expect(parseInventory(settings.LOCAL_GPUS, [])).toEqual([]);
    const cluster = kubernetesOptionsFromEnv(configMap.data);
    expect(cluster?.auth).toEqual({ inCluster: true });
    expect(cluster?.agentImage).toBe(configMap.data.KUBERNETES_AGENT_IMAGE);
    expect(ofKind("Namespace").map((ns) => ns.metadata.name)).toContain(cluster!.namespace);
  });

  test("an unedited Secret stops every process at start: each placeholder is refused by the config check", () => {
    const secrets = ofKind("Secret");
    expect(secrets.map((s) => s.metadata.name).sort()).toEqual(["qdz-database-owner", "qdz-secrets"]);
    for (const secret of secrets) {
      expect(secret.data).toBeUndefined();
      for (const [name, value] of Object.entries(secret.stringData as Record<string, string>)) {
        if (value === "") continue;
        expect(value).toStartWith("REPLACE_ME");
        expect(() => loadConfig({ DATABASE_URL: "postgres://qdz_app:secret@db:5432/qdz", [name]: value })).toThrow(`  ${name}:`);
      }
    }
  });

  test("the api listens on PORT, the Service's targetPort, and pods' agents reach it at AGENT_CONTROL_URL", () => {
    const port = loadConfig({ ...configMap.data }).PORT;
    const http = apiContainer.ports.find((p: Doc) => p.name === "http");
    expect(http.containerPort).toBe(port);
    expect(envOf(apiContainer).has("PORT")).toBe(false);
    const service = named("Service", "qdz-api");
    const podLabels = apiDeployment.spec.template.metadata.labels;
    expect(Object.entries(service.spec.selector).every(([key, value]) => podLabels[key] === value)).toBe(true);
    expect(Object.entries(apiDeployment.spec.selector.matchLabels).every(([key, value]) => podLabels[key] === value)).toBe(true);
    const servicePort = service.spec.ports.find((p: Doc) => p.name === "http");
    const target =
      typeof servicePort.targetPort === "string"
        ? apiContainer.ports.find((p: Doc) => p.name === servicePort.targetPort)?.containerPort
        : servicePort.targetPort;
    expect(target).toBe(port);
    const control = new URL(configMap.data.AGENT_CONTROL_URL);
    expect(control.hostname).toBe(`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`);
    expect(Number(control.port || 80)).toBe(servicePort.port);
  });

  test("the api sets BUN_CONFIG_MAX_HTTP_REQUESTS above Bun's 256", () => {
    expect(Number(envOf(apiContainer).get("BUN_CONFIG_MAX_HTTP_REQUESTS"))).toBeGreaterThan(256);
  });
});

const { db } = await freshDatabase();
const app = createApp({ db, config: testConfig });

describe("probes", () => {
  const probes = (["startupProbe", "livenessProbe", "readinessProbe"] as const).filter((probe) => apiContainer[probe]);

  test("readiness is /readyz and liveness /healthz, on the api's port", () => {
    expect(apiContainer.readinessProbe.httpGet.path).toBe("/readyz");
    expect(apiContainer.livenessProbe.httpGet.path).toBe("/healthz");
    for (const probe of probes) expect(apiContainer.ports.map((p: Doc) => p.name)).toContain(apiContainer[probe].httpGet.port);
  });

  test.each(probes)("%s's path answers 200 on a started app", async (probe) => {
    const response = await app.handle(new Request(`http://localhost:3000${apiContainer[probe].httpGet.path}`));
    expect(response.status).toBe(200);
  });
});

// --- RBAC: what the Kubernetes provider calls ---------------------------------------------------------------------

/** The permissions the provider's calls need, from its source: `api.createNamespacedPod(` → create pods, in the namespace. */
function neededPermissions(): { scope: "namespace" | "cluster"; resource: string; verb: string }[] {
  const dir = join(projectRoot, "src", "providers", "kubernetes");
  const source = readdirSync(dir)
    .map((file) => readFileSync(join(dir, file), "utf8"))
    .join("\n");
  const verbs: Record<string, string> = { create: "create", read: "get", list: "list", delete: "delete", patch: "patch", replace: "update" };
  const calls = [...source.matchAll(/\bapi\.(create|read|list|delete|patch|replace)(Namespaced)?(\w+?)(Log)?(ForAllNamespaces)?\(/g)].map((m) => {
    const resource = `${m[3]!.toLowerCase()}s${m[4] ? "/log" : ""}`;
    return { scope: m[2] ? ("namespace" as const) : ("cluster" as const), resource, verb: verbs[m[1]!]! };
  });
  const watches = [...source.matchAll(/\.watch\(\s*`\/api\/v1\/namespaces\/\$\{[^}]+\}\/(\w+)`/g)].map((m) => ({
    scope: "namespace" as const,
    resource: m[1]!,
    verb: "watch",
  }));
  return [...calls, ...watches];
}

const grants = (rules: Doc[], resource: string, verb: string) =>
  rules.some((rule) => rule.apiGroups.includes("") && rule.resources.includes(resource) && rule.verbs.includes(verb));

describe("RBAC", () => {
  const account = named("ServiceAccount", "qdz");
  const namespace = configMap.data.KUBERNETES_NAMESPACE;
  const boundTo = (binding: Doc) =>
    binding.subjects.some((s: Doc) => s.kind === "ServiceAccount" && s.name === account.metadata.name && s.namespace === account.metadata.namespace);

  test("the api and the workers run as the provider's service account; the migration mounts no token", () => {
    for (const { name, spec } of podSpecs) {
      if (name === "qdz-migrate") expect(spec.automountServiceAccountToken).toBe(false);
      else expect(spec.serviceAccountName).toBe(account.metadata.name);
    }
  });

  test("it is granted every call the provider makes, in KUBERNETES_NAMESPACE or cluster-wide, and no more", () => {
    const needed = neededPermissions();
    expect(needed.length).toBeGreaterThan(8);
    const roles = ofKind("RoleBinding")
      .filter((binding) => binding.metadata.namespace === namespace && boundTo(binding))
      .map((binding) => named("Role", binding.roleRef.name))
      .filter((role) => role.metadata.namespace === namespace);
    const clusterRoles = ofKind("ClusterRoleBinding")
      .filter(boundTo)
      .map((binding) => named("ClusterRole", binding.roleRef.name));
    const namespaceRules = roles.flatMap((role) => role.rules);
    const clusterRules = clusterRoles.flatMap((role) => role.rules);
    for (const { scope, resource, verb } of needed) {
      const granted = grants(scope === "namespace" ? [...namespaceRules, ...clusterRules] : clusterRules, resource, verb);
      expect({ scope, resource, verb, granted }).toEqual({ scope, resource, verb, granted: true });
    }
    // Nothing beyond: every granted verb is one the provider uses (nodes' get is list's single-object twin).
    const used = new Set(needed.map((n) => `${n.scope} ${n.resource} ${n.verb}`));
    const granted = [
      ...namespaceRules.flatMap((rule: Doc) => rule.resources.flatMap((r: string) => rule.verbs.map((v: string) => `namespace ${r} ${v}`))),
      ...clusterRules.flatMap((rule: Doc) => rule.resources.flatMap((r: string) => rule.verbs.map((v: string) => `cluster ${r} ${v}`))),
    ];
    expect(granted.filter((g) => !used.has(g) && g !== "cluster nodes get")).toEqual([]);
  });
});
