// Validates rendered Kubernetes manifests offline, strictly.
//
// usage: node validate_manifests.mjs [--no-cross-checks] [--out DIR] FILE.yaml...
//
// 1. Schema: every object is loaded with its kubernetes-models (or
//    @kubernetes-models/prometheus-operator) class and validated. Those schemas
//    come from the OpenAPI documents, which allow unknown fields, so a typo
//    such as `readinessProbes` would pass. The validator therefore runs on a
//    proxy that records every property the schema looked at; a field the
//    schema never looked at is not part of the type, and is reported.
// 2. Cross checks within one rendering (skipped with --no-cross-checks, for
//    files that are not a whole kustomization): selectors match the pod
//    labels, named ports exist, mounted ConfigMaps/Secrets/claims exist, the
//    gateway's config file parses and every file it names is mounted, the
//    termination grace outlasts the shutdown sequence, and the pod is locked
//    down (non-root, read-only root, no capabilities, seccomp).
// 3. With --out DIR: writes there every ConfigMap key (DIR/NAME/KEY), each
//    PrometheusRule's rule groups (NAME.rules.yaml; JSON is YAML, so
//    promtool reads it), and the gateway container's arguments and the config
//    file they name (gateway-args.json, gateway-config.json).
//
// Exits 1 listing every problem as "FILE: Kind/name: path: message".
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

const args = process.argv.slice(2);
let crossChecks = true;
let outDir = null;
const files = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === "--no-cross-checks") crossChecks = false;
  else if (args[i] === "--out") outDir = args[++i];
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error("usage: validate_manifests.mjs [--no-cross-checks] [--out DIR] FILE.yaml...");
  process.exit(2);
}

const problems = [];

// Loads the model class for apiVersion + kind, or null.
async function modelClass(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const candidates =
    group === "monitoring.coreos.com"
      ? [`@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`]
      : [`kubernetes-models/${group ? `${group}/` : ""}${version}/${kind}`];
  for (const module of candidates) {
    try {
      return (await import(module))[kind] ?? null;
    } catch {
      // Not a kind this package knows.
    }
  }
  return null;
}

// Wraps `value` so that every property read (get, `in`, key enumeration) is
// recorded in `seen` as a JSON pointer.
function traced(value, pointer, seen) {
  if (value === null || typeof value !== "object") return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver);
      if (typeof key !== "string") return child;
      seen.add(`${pointer}/${key}`);
      return traced(child, `${pointer}/${key}`, seen);
    },
    has(target, key) {
      if (typeof key === "string") seen.add(`${pointer}/${key}`);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      // Maps (labels, data, ...) are checked by enumerating their keys.
      for (const key of Reflect.ownKeys(target)) {
        if (typeof key === "string") seen.add(`${pointer}/${key}`);
      }
      return Reflect.ownKeys(target);
    },
  });
}

// Pointers of every property of `value` that is not in `seen`.
function unknownFields(value, pointer, seen, out) {
  if (value === null || typeof value !== "object") return out;
  for (const key of Object.keys(value)) {
    const child = `${pointer}/${key}`;
    if (!seen.has(child)) out.push(child);
    else unknownFields(value[key], child, seen, out);
  }
  return out;
}

async function validateSchema(file, obj) {
  const where = `${file}: ${obj.kind}/${obj.metadata?.name}`;
  const Model = await modelClass(String(obj.apiVersion), String(obj.kind));
  if (!Model) {
    problems.push(`${where}: no schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`);
    return;
  }
  // kustomize folds long base64 values over several lines; the API server
  // decodes them ignoring line breaks, so the check does too.
  if (obj.kind === "Secret" && obj.data) {
    obj = { ...obj, data: Object.fromEntries(Object.entries(obj.data).map(([k, v]) => [k, String(v).replace(/\s+/g, "")])) };
  }
  const model = new Model(obj);
  try {
    model.validate();
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
    return;
  }
  const seen = new Set();
  Model.prototype.validate.call(traced(model.toJSON(), "", seen));
  for (const pointer of unknownFields(obj, "", seen, [])) {
    problems.push(`${where}: ${pointer}: unknown field (not in the ${obj.kind} schema)`);
  }
}

const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const under = (file, dir) => file.startsWith(dir.endsWith("/") ? dir : `${dir}/`);

// The value following `flag` in an argument list ("--flag value" or "--flag=value").
function flagValue(argv, flag) {
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === flag) return argv[i + 1];
    if (argv[i].startsWith(`${flag}=`)) return argv[i].slice(flag.length + 1);
  }
  return undefined;
}

function crossCheck(file, objects) {
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const named = (kind, name) => byKind(kind).find((o) => o.metadata?.name === name);
  const fail = (o, msg) => problems.push(`${file}: ${o.kind}/${o.metadata?.name}: ${msg}`);

  // The gateway is the Deployment with a container named b24gate; others
  // (Redis in overlays/replicas) are its helpers.
  const deployments = byKind("Deployment");
  const gateways = deployments.filter((d) => d.spec.template.spec.containers.some((c) => c.name === "b24gate"));
  if (gateways.length !== 1) {
    problems.push(`${file}: expected one Deployment with a container named b24gate, found ${gateways.length}`);
    return;
  }
  const deploy = gateways[0];
  const pod = deploy.spec.template;
  const podLabels = pod.metadata?.labels ?? {};
  const container = pod.spec.containers.find((c) => c.name === "b24gate");
  const portsOf = (d) => Object.fromEntries(d.spec.template.spec.containers.flatMap((c) => c.ports ?? [])
    .map((p) => [p.name, p.containerPort]));
  const portByName = portsOf(deploy);

  for (const d of deployments) {
    if (!matches(d.spec.selector.matchLabels, d.spec.template.metadata?.labels ?? {})) fail(d, "selector does not match its pod labels");
  }
  // Which Deployment's pods a selector picks: the gateway's, another's, or none.
  const selected = (selector) => deployments.find((d) => matches(selector, d.spec.template.metadata?.labels ?? {}));
  const selectorOf = (o) => o.kind === "Service" ? o.spec.selector : o.kind === "NetworkPolicy"
    ? o.spec.podSelector.matchLabels : o.spec.selector.matchLabels;
  for (const kind of ["Service", "PodDisruptionBudget", "NetworkPolicy"]) {
    for (const o of byKind(kind)) {
      const selector = selectorOf(o);
      if (!selector || Object.keys(selector).length === 0) fail(o, "selects no pod labels");
      else if (!selected(selector)) fail(o, "selector does not match the pod labels of any Deployment");
    }
  }
  for (const svc of byKind("Service")) {
    const target = selected(svc.spec.selector ?? {});
    if (!target) continue;
    const ports = portsOf(target);
    for (const p of svc.spec.ports) {
      if (typeof p.targetPort === "string" && !(p.targetPort in ports)) {
        fail(svc, `port ${p.name}: targetPort "${p.targetPort}" is not a container port name`);
      }
    }
  }
  const gatewayServices = byKind("Service").filter((s) => selected(s.spec.selector ?? {}) === deploy);
  if (!gatewayServices.some((s) => s.spec.ports.some((p) => p.name === "grpc" && p.appProtocol === "grpc"))) {
    fail(deploy, 'no Service of the gateway has a port named "grpc" with appProtocol grpc');
  }
  for (const hpa of byKind("HorizontalPodAutoscaler")) {
    const ref = hpa.spec.scaleTargetRef;
    if (ref.kind !== "Deployment" || ref.name !== deploy.metadata.name) {
      fail(hpa, `scaleTargetRef ${ref.kind}/${ref.name} is not the gateway's Deployment ${deploy.metadata.name}`);
    }
    if ((hpa.spec.minReplicas ?? 1) > hpa.spec.maxReplicas) fail(hpa, "minReplicas above maxReplicas");
  }
  for (const sm of byKind("ServiceMonitor")) {
    const svcs = byKind("Service").filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels));
    if (svcs.length === 0) fail(sm, "selects no Service of this rendering");
    for (const ep of sm.spec.endpoints) {
      if (!svcs.some((s) => s.spec.ports.some((p) => p.name === ep.port))) {
        fail(sm, `endpoint port "${ep.port}" is not a port of the selected Service`);
      }
    }
  }
  for (const np of byKind("NetworkPolicy")) {
    const target = selected(np.spec.podSelector.matchLabels ?? {});
    const ports = target ? portsOf(target) : {};
    for (const rule of np.spec.ingress ?? []) {
      for (const p of rule.ports ?? []) {
        if (typeof p.port === "string" && !(p.port in ports)) fail(np, `ingress port "${p.port}" is not a container port name`);
      }
    }
  }

  // Probes: native gRPC on the gRPC port.
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const port = container[probe]?.grpc?.port;
    if (port === undefined) fail(deploy, `${probe}: must be a gRPC probe`);
    else if (port !== portByName.grpc) fail(deploy, `${probe}: port ${port} is not the grpc port ${portByName.grpc}`);
  }
  const argv = container.args ?? [];
  // More than one gateway pod shares state through Redis: --redis must be
  // given, and name a Service of this rendering (or a host outside it) whose
  // port the gateway's NetworkPolicy lets it reach.
  const redis = flagValue(argv, "--redis");
  const mostPods = Math.max(deploy.spec.replicas ?? 1, ...byKind("HorizontalPodAutoscaler").map((h) => h.spec.maxReplicas));
  if (mostPods > 1 && !redis) fail(deploy, `up to ${mostPods} pods but no --redis: each would spend the portals' whole budget`);
  if (mostPods > 1 && deploy.spec.strategy?.type === "Recreate") fail(deploy, "several pods but strategy Recreate");
  if (redis) {
    const m = /^redis:\/\/([^/:]+)(?::(\d+))?/.exec(redis);
    if (!m) fail(deploy, `--redis ${redis} is not redis://HOST[:PORT]`);
    else if (!m[1].includes(".")) {
      const port = Number(m[2] ?? 6379);
      const svc = named("Service", m[1]);
      if (!svc) fail(deploy, `--redis ${redis}: no Service ${m[1]} in this rendering`);
      else if (!svc.spec.ports.some((p) => p.port === port)) fail(deploy, `--redis ${redis}: Service ${m[1]} has no port ${port}`);
      const own = byKind("NetworkPolicy").filter((np) => matches(np.spec.podSelector.matchLabels ?? {}, podLabels));
      for (const np of own) {
        if (!(np.spec.egress ?? []).some((rule) => (rule.ports ?? []).some((p) => p.port === port))) {
          fail(np, `egress does not allow the gateway to reach Redis on port ${port}`);
        }
      }
    }
  }
  const metricsListen = flagValue(argv, "--metrics-listen");
  if (metricsListen && Number(metricsListen.split(":").pop()) !== portByName["http-metrics"]) {
    fail(deploy, `--metrics-listen ${metricsListen} is not the http-metrics port ${portByName["http-metrics"]}`);
  }

  // Locked down.
  const psc = pod.spec.securityContext ?? {};
  const csc = container.securityContext ?? {};
  if (!(psc.runAsNonRoot || csc.runAsNonRoot)) fail(deploy, "runAsNonRoot is not set");
  if (csc.readOnlyRootFilesystem !== true) fail(deploy, "readOnlyRootFilesystem is not true");
  if (csc.allowPrivilegeEscalation !== false) fail(deploy, "allowPrivilegeEscalation is not false");
  if (!(csc.capabilities?.drop ?? []).includes("ALL")) fail(deploy, "capabilities do not drop ALL");
  if ((psc.seccompProfile ?? csc.seccompProfile)?.type !== "RuntimeDefault") fail(deploy, "seccomp profile is not RuntimeDefault");

  // Volumes and what they refer to.
  const volumes = Object.fromEntries((pod.spec.volumes ?? []).map((v) => [v.name, v]));
  const mounts = (container.volumeMounts ?? []).map((m) => ({ ...m, volume: volumes[m.name] }));
  for (const m of mounts) {
    if (!m.volume) { fail(deploy, `volumeMount ${m.name}: no such volume`); continue; }
    if (m.volume.configMap && !named("ConfigMap", m.volume.configMap.name)) fail(deploy, `volume ${m.name}: no ConfigMap ${m.volume.configMap.name}`);
    if (m.volume.secret && !named("Secret", m.volume.secret.secretName)) fail(deploy, `volume ${m.name}: no Secret ${m.volume.secret.secretName}`);
    if (m.volume.persistentVolumeClaim && !named("PersistentVolumeClaim", m.volume.persistentVolumeClaim.claimName)) {
      fail(deploy, `volume ${m.name}: no PersistentVolumeClaim ${m.volume.persistentVolumeClaim.claimName}`);
    }
  }
  // The object and key a file path of the container reads, or an error.
  const fileSource = (p) => {
    const m = mounts.find((x) => under(p, x.mountPath));
    if (!m?.volume) return { error: `${p} is on no mounted volume` };
    const key = p.slice(m.mountPath.replace(/\/$/, "").length + 1);
    if (m.volume.configMap) {
      const cm = named("ConfigMap", m.volume.configMap.name);
      return key in (cm?.data ?? {}) ? { text: cm.data[key] } : { error: `${p}: ConfigMap ${m.volume.configMap.name} has no key ${key}` };
    }
    if (m.volume.secret) {
      const s = named("Secret", m.volume.secret.secretName);
      return key in (s?.data ?? {}) || key in (s?.stringData ?? {}) ? {} : { error: `${p}: Secret ${m.volume.secret.secretName} has no key ${key}` };
    }
    return { error: `${p} is on volume ${m.name}, neither a ConfigMap nor a Secret` };
  };
  const writable = (p) => mounts.some((m) => under(p, m.mountPath) && !m.readOnly && m.volume &&
    (m.volume.persistentVolumeClaim || m.volume.emptyDir));

  // The gateway's config file.
  const configPath = flagValue(argv, "--config") ?? (container.env ?? []).find((e) => e.name === "B24GATE_CONFIG")?.value;
  if (!configPath) return fail(deploy, "no --config argument");
  const source = fileSource(configPath);
  if (source.error) return fail(deploy, `--config ${source.error}`);
  let config;
  try {
    config = JSON.parse(source.text);
  } catch (e) {
    return fail(deploy, `--config ${configPath}: not JSON: ${e.message}`);
  }
  for (const [i, portal] of (config.portals ?? []).entries()) {
    const files = [portal.webhook_file, portal.application_token_file, portal.ca_file,
      portal.oauth?.client_secret_file].filter(Boolean);
    for (const f of files) {
      const s = fileSource(f);
      if (s.error) fail(deploy, `config portals[${i}] (${portal.name}): ${s.error}`);
    }
    if (portal.oauth?.token_file && !writable(portal.oauth.token_file)) {
      fail(deploy, `config portals[${i}] (${portal.name}): token_file ${portal.oauth.token_file} is on no writable volume`);
    }
  }

  checkEvents(file, objects, deploy, argv, config, writable);

  // Shutdown: preStop sleep, then the gateway's pre-drain delay, then its
  // grace period must all fit in terminationGracePeriodSeconds.
  const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
  const predrain = parseFloat(flagValue(argv, "--predrain-delay") ?? "5");
  const grace = config.shutdown_grace_seconds ?? 20;
  const needed = preStop + predrain + grace;
  const allowed = pod.spec.terminationGracePeriodSeconds ?? 30;
  if (!(allowed > needed)) {
    fail(deploy, `terminationGracePeriodSeconds ${allowed} does not exceed preStop ${preStop} + pre-drain ${predrain} + grace ${grace} = ${needed}`);
  }

  if (outDir) {
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "gateway-args.json"), JSON.stringify(argv));
    fs.writeFileSync(path.join(outDir, "gateway-config.json"), source.text);
    for (const cm of byKind("ConfigMap")) {
      for (const [key, text] of Object.entries(cm.data ?? {})) {
        fs.mkdirSync(path.join(outDir, cm.metadata.name), { recursive: true });
        fs.writeFileSync(path.join(outDir, cm.metadata.name, key), text);
      }
    }
    for (const rule of byKind("PrometheusRule")) {
      fs.mkdirSync(outDir, { recursive: true });
      fs.writeFileSync(path.join(outDir, `${rule.metadata.name}.rules.yaml`), JSON.stringify({ groups: rule.spec.groups }, null, 2));
    }
  }
}

// The inbound event endpoint (--events-listen, or events_listen in the
// config file): its port is the container port named "events"; whatever an
// Ingress routes to is that port and nothing else of the gateway (never gRPC,
// which has AdminService, nor the metrics); a NetworkPolicy of the gateway
// admits that port; the events log is on a writable volume; and each portal
// has an application_token, without which every post for it is refused.
function checkEvents(file, objects, deploy, argv, config, writable) {
  const fail = (o, msg) => problems.push(`${file}: ${o.kind}/${o.metadata?.name}: ${msg}`);
  const ingresses = objects.filter((o) => o.kind === "Ingress");
  const listen = flagValue(argv, "--events-listen") ?? config.events_listen;
  if (!listen) {
    for (const ing of ingresses) fail(ing, "routes to the gateway, which has no --events-listen");
    return;
  }
  const ports = deploy.spec.template.spec.containers.find((c) => c.name === "b24gate").ports ?? [];
  const events = ports.find((p) => p.name === "events");
  if (!events) return fail(deploy, `--events-listen ${listen} but no container port named "events"`);
  if (Number(listen.split(":").pop()) !== events.containerPort) {
    fail(deploy, `--events-listen ${listen} is not the events port ${events.containerPort}`);
  }
  const isEvents = (port) => port === "events" || port === events.containerPort;
  for (const ing of ingresses) {
    const backends = (ing.spec.rules ?? []).flatMap((r) => r.http?.paths ?? []).map((p) => p.backend.service);
    if (ing.spec.defaultBackend?.service) backends.push(ing.spec.defaultBackend.service);
    for (const b of backends) {
      const svc = objects.find((o) => o.kind === "Service" && o.metadata?.name === b.name);
      const port = svc?.spec.ports.find((p) => p.name === b.port.name || p.port === b.port.number);
      if (!port) fail(ing, `backend ${b.name}:${b.port.name ?? b.port.number} is not a Service port of this rendering`);
      else if (!isEvents(port.targetPort)) fail(ing, `routes to ${b.name}:${port.name}, not to the events port`);
      for (const other of svc?.spec.ports ?? []) {
        if (!isEvents(other.targetPort)) fail(svc, `routed to by Ingress ${ing.metadata.name}, exposes ${other.name} beside the events port`);
      }
    }
  }
  const podLabels = deploy.spec.template.metadata?.labels ?? {};
  const admits = objects.filter((o) => o.kind === "NetworkPolicy" && matches(o.spec.podSelector.matchLabels ?? {}, podLabels))
    .some((np) => (np.spec.ingress ?? []).some((rule) => (rule.ports ?? []).some((p) => isEvents(p.port))));
  if (!admits) fail(deploy, "no NetworkPolicy of the gateway admits the events port: Bitrix24's posts cannot reach it");
  const log = flagValue(argv, "--events-log") ?? config.events_log ?? "/var/lib/b24gate/events";
  if (!flagValue(argv, "--redis") && !writable(log)) fail(deploy, `events log ${log} is on no writable volume`);
  for (const [i, portal] of (config.portals ?? []).entries()) {
    if (!portal.application_token && !portal.application_token_file) {
      fail(deploy, `config portals[${i}] (${portal.name}): no application_token: every post for it is refused`);
    }
    checkBindings(`config portals[${i}] (${portal.name}).event_bindings`, portal.event_bindings, (msg) => fail(deploy, msg));
  }
  // Online bindings and streams are bound to events_public_url/events/PORTAL:
  // an Ingress of this rendering must route it, or Bitrix24's posts go nowhere.
  const publicUrl = flagValue(argv, "--events-public-url") ?? config.events_public_url;
  if (!publicUrl) return fail(deploy, "--events-listen without --events-public-url: the portal would post to the pod's own address");
  let url;
  try {
    url = new URL(publicUrl.replace(/\/+$/, "") + "/events/");
  } catch (e) {
    return fail(deploy, `events_public_url ${publicUrl}: not a URL`);
  }
  const routed = ingresses.some((ing) => (ing.spec.rules ?? []).some((r) => r.host === url.hostname &&
    (r.http?.paths ?? []).some((p) => url.pathname.startsWith(p.path ?? "/"))));
  if (!routed) fail(deploy, `events_public_url ${publicUrl}: no Ingress of this rendering routes ${url.hostname}${url.pathname}`);
}

// A portal's "event_bindings" as the gateway reads them: names only (no
// patterns; ONOFFLINEEVENT is the streams' own), an auth_connector name.
function checkBindings(where, bindings, fail) {
  if (bindings === undefined) return;
  if (typeof bindings !== "object" || bindings === null || Array.isArray(bindings)) return fail(`${where}: not an object`);
  for (const key of Object.keys(bindings)) {
    if (!["offline", "online", "auth_connector"].includes(key)) fail(`${where}: unknown key ${key}`);
  }
  for (const kind of ["offline", "online"]) {
    if (bindings[kind] === undefined) continue;
    if (!Array.isArray(bindings[kind])) { fail(`${where}.${kind}: not a list of event names`); continue; }
    for (const [j, name] of bindings[kind].entries()) {
      if (typeof name !== "string" || !/^[A-Za-z0-9_]{1,64}$/.test(name)) fail(`${where}.${kind}[${j}]: not an event name (no patterns here)`);
      else if (name.toUpperCase() === "ONOFFLINEEVENT") fail(`${where}.${kind}[${j}]: ONOFFLINEEVENT is bound by the offline streams themselves`);
    }
  }
  const connector = bindings.auth_connector;
  if (connector !== undefined && !(typeof connector === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(connector))) {
    fail(`${where}.auth_connector: 1 to 64 of A-Z a-z 0-9 _ . -`);
  }
}

for (const file of files) {
  const docs = parseAllDocuments(fs.readFileSync(file, "utf8"), { uniqueKeys: true, prettyErrors: true });
  const objects = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    for (const e of doc.errors) problems.push(`${file}: YAML: ${e.message}`);
    const obj = doc.toJS();
    if (obj !== null && obj !== undefined) objects.push(obj);
  }
  for (const obj of objects) await validateSchema(file, obj);
  if (crossChecks) crossCheck(file, objects);
  const kinds = objects.map((o) => o.kind).sort().join(", ");
  console.log(`${file}: ${objects.length} objects (${kinds})`);
}

if (problems.length) {
  for (const p of problems) console.error(`INVALID: ${p}`);
  process.exit(1);
}
console.log(`all ${files.length} file(s) valid`);
