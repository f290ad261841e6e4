#!/usr/bin/env python3
"""Checks deploy/: every YAML file parses; the Kubernetes manifests validate against the official
schemas (strict, for the oldest and newest Kubernetes versions checked); and the fields that the
probes, the Services and the container image rely on agree with each other and with
deploy/Dockerfile.

Run through deploy/check-manifests.sh, which provides PyYAML and kubernetes-validate.
Prints one line per check and closes with "N passed, N failed"; exits 1 on any failure.
"""
from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
GRPC_PORT = 50051
# grpc probes are GA since 1.27; also checked against the newest schemas the validator ships.
K8S_VERSIONS = [v for v in os.environ.get("DOSSIER_K8S_VERSIONS", "1.27.0,latest").split(",") if v]
WORKLOAD_KINDS = ("Deployment", "StatefulSet")

passed = 0
failed = 0


def check(name: str, ok: bool, detail: str = "") -> bool:
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name}{': ' + detail if detail else ''}")
    return ok


def rel(p: Path) -> str:
    return str(p.relative_to(DEPLOY.parent))


# ------------------------------------------------------------------------------------------
# Dockerfile facts the manifests must agree with
# ------------------------------------------------------------------------------------------
def dockerfile_facts() -> dict:
    text = (DEPLOY / "Dockerfile").read_text()
    # Join continuation lines, drop comments.
    lines, buf = [], ""
    for raw in text.splitlines():
        s = raw.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if buf and s.startswith("#"):
            continue
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        lines.append(buf + s)
        buf = ""
    stages = [i for i, l in enumerate(lines) if l.split()[0].upper() == "FROM"]
    final = lines[stages[-1]:] if stages else []
    facts: dict = {"env": {}, "expose": [], "volumes": [], "user": None, "healthcheck": None,
                   "stopsignal": None, "from": [lines[i] for i in stages], "all": lines}
    for l in final:
        instr, _, rest = l.partition(" ")
        instr = instr.upper()
        if instr == "ENV":
            for tok in shlex.split(rest):
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    facts["env"][k] = v
        elif instr == "EXPOSE":
            facts["expose"] += [t.split("/")[0] for t in rest.split()]
        elif instr == "VOLUME":
            r = rest.strip()
            facts["volumes"] += yaml.safe_load(r) if r.startswith("[") else r.split()
        elif instr == "USER":
            facts["user"] = rest.strip()
        elif instr == "HEALTHCHECK":
            facts["healthcheck"] = rest.strip()
        elif instr == "STOPSIGNAL":
            facts["stopsignal"] = rest.strip()
    return facts


def check_dockerfile(df: dict) -> None:
    check("Dockerfile: runtime EXPOSEs %d" % GRPC_PORT, str(GRPC_PORT) in df["expose"], str(df["expose"]))
    check("Dockerfile: DOSSIER_ADDR=0.0.0.0:%d" % GRPC_PORT,
          df["env"].get("DOSSIER_ADDR") == f"0.0.0.0:{GRPC_PORT}", str(df["env"].get("DOSSIER_ADDR")))
    check("Dockerfile: DOSSIER_CORPUS points at the baked-in seeds", bool(df["env"].get("DOSSIER_CORPUS")))
    metrics = df["env"].get("DOSSIER_METRICS_ADDR")
    if metrics:
        check("Dockerfile: the metrics port is EXPOSEd", metrics.rpartition(":")[2] in df["expose"], str(df["expose"]))
    user = (df["user"] or "").split(":")[0]
    check("Dockerfile: USER is a numeric non-root uid", user.isdigit() and int(user) != 0, str(df["user"]))
    check("Dockerfile: VOLUME for --data-dir", bool(df["volumes"]), str(df["volumes"]))
    check("Dockerfile: HEALTHCHECK runs `dossier ... health`",
          bool(df["healthcheck"]) and re.search(r"\bdossier\b.*\bhealth\b", df["healthcheck"]) is not None,
          str(df["healthcheck"]))
    check("Dockerfile: STOPSIGNAL SIGTERM", df["stopsignal"] == "SIGTERM", str(df["stopsignal"]))
    builds = [l for l in df["all"] if "cargo build" in l]
    check("Dockerfile: cargo builds are --release --locked",
          bool(builds) and all("--release" in b and "--locked" in b for b in builds))


# ------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------
def load_all() -> dict[Path, list]:
    docs: dict[Path, list] = {}
    files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    for p in files:
        try:
            docs[p] = [d for d in yaml.safe_load_all(p.read_text()) if d is not None]
            check(f"{rel(p)}: parses as YAML ({len(docs[p])} document(s))", len(docs[p]) > 0, "empty")
        except yaml.YAMLError as e:
            check(f"{rel(p)}: parses as YAML", False, str(e).replace("\n", " "))
    return docs


def validate_schemas(k8s: list[tuple[Path, dict]]) -> None:
    if os.environ.get("DOSSIER_CHECK_SCHEMAS", "1") == "0":
        print("skip  schema validation (DOSSIER_CHECK_SCHEMAS=0)")
        return
    import kubernetes_validate

    for version in K8S_VERSIONS:
        v = kubernetes_validate.latest_version() if version == "latest" else version
        for path, doc in k8s:
            name = f"{rel(path)}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')} valid for Kubernetes {v} (strict)"
            try:
                kubernetes_validate.validate(doc, v, strict=True)
                check(name, True)
            except kubernetes_validate.ValidationError as e:
                check(name, False, f"{'.'.join(str(x) for x in e.path)}: {e.message}")
            except Exception as e:  # schema missing for this kind/version, etc.
                check(name, False, f"{type(e).__name__}: {e}")


# ------------------------------------------------------------------------------------------
# Kubernetes cross-checks
# ------------------------------------------------------------------------------------------
def labels_match(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value") for e in container.get("env") or [] if "name" in e}


def check_workload(path: Path, w: dict, df: dict) -> None:
    kind, name = w["kind"], w["metadata"]["name"]
    tag = f"{rel(path)}: {kind}/{name}"
    spec = w.get("spec") or {}
    tpl = spec.get("template") or {}
    pod = tpl.get("spec") or {}
    check(f"{tag}: selector matches the pod template's labels",
          labels_match((spec.get("selector") or {}).get("matchLabels") or {}, (tpl.get("metadata") or {}).get("labels") or {}))
    containers = pod.get("containers") or []
    c = next((c for c in containers if any(p.get("containerPort") == GRPC_PORT for p in c.get("ports") or [])), None)
    if not check(f"{tag}: a container exposes containerPort {GRPC_PORT}", c is not None):
        return
    named = {p.get("name") for p in c.get("ports") or [] if p.get("containerPort") == GRPC_PORT}
    check(f"{tag}: port {GRPC_PORT} is named 'grpc'", "grpc" in named, str(named))

    for probe in ("readinessProbe", "livenessProbe"):
        p = c.get(probe) or {}
        check(f"{tag}: {probe} is a gRPC probe on port {GRPC_PORT}",
              (p.get("grpc") or {}).get("port") == GRPC_PORT, str(p))
    if "startupProbe" in c:
        p = c["startupProbe"]
        check(f"{tag}: startupProbe is a gRPC probe on port {GRPC_PORT}",
              (p.get("grpc") or {}).get("port") == GRPC_PORT, str(p))

    env = env_of(c)
    metrics_addr = env.get("DOSSIER_METRICS_ADDR", df["env"].get("DOSSIER_METRICS_ADDR"))
    if metrics_addr:
        mport = metrics_addr.rpartition(":")[2]
        check(f"{tag}: the metrics port {mport} (DOSSIER_METRICS_ADDR) is a named containerPort",
              any(str(p.get("containerPort")) == mport and p.get("name") for p in c.get("ports") or []))
        ann = (tpl.get("metadata") or {}).get("annotations") or {}
        if "prometheus.io/port" in ann:
            check(f"{tag}: prometheus.io/port annotation is the metrics port", ann["prometheus.io/port"] == mport,
                  f"{ann['prometheus.io/port']} vs {mport}")
    addr = env.get("DOSSIER_ADDR") or df["env"].get("DOSSIER_ADDR") or ""
    host, _, port = addr.rpartition(":")
    check(f"{tag}: DOSSIER_ADDR ({addr}) listens on all interfaces at port {GRPC_PORT}",
          host in ("0.0.0.0", "[::]") and port == str(GRPC_PORT))
    if env.get("DOSSIER_CORPUS"):
        check(f"{tag}: DOSSIER_CORPUS is the image's seeds path",
              env["DOSSIER_CORPUS"] == df["env"].get("DOSSIER_CORPUS"),
              f"{env['DOSSIER_CORPUS']} vs {df['env'].get('DOSSIER_CORPUS')}")

    psc = pod.get("securityContext") or {}
    csc = c.get("securityContext") or {}
    uid = (df["user"] or "").split(":")[0]
    check(f"{tag}: runs as non-root", psc.get("runAsNonRoot") is True or csc.get("runAsNonRoot") is True)
    run_as = csc.get("runAsUser", psc.get("runAsUser"))
    check(f"{tag}: runAsUser is the image's uid {uid}", str(run_as) == uid, str(run_as))
    check(f"{tag}: read-only root filesystem", csc.get("readOnlyRootFilesystem") is True)
    check(f"{tag}: no privilege escalation", csc.get("allowPrivilegeEscalation") is False)
    check(f"{tag}: drops all capabilities", "ALL" in ((csc.get("capabilities") or {}).get("drop") or []))

    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates") or []}
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts") or []}
    for mpath, vname in mounts.items():
        check(f"{tag}: volumeMount {mpath} has a volume '{vname}'", vname in volumes or vname in claims)
    check(f"{tag}: /tmp is an emptyDir (writable under the read-only root)",
          "/tmp" in mounts and "emptyDir" in (volumes.get(mounts["/tmp"]) or {}))
    for vol in df["volumes"]:
        check(f"{tag}: the image's VOLUME {vol} is mounted (read-only root filesystem)", vol in mounts)

    res = c.get("resources") or {}
    check(f"{tag}: resources request cpu and memory",
          {"cpu", "memory"} <= set((res.get("requests") or {}).keys()), str(res))
    check(f"{tag}: resources limit memory", "memory" in (res.get("limits") or {}), str(res))

    # The data directory, set here or inherited from the image, must be writable: a volume.
    data_dir = env.get("DOSSIER_DATA_DIR", df["env"].get("DOSSIER_DATA_DIR"))
    if data_dir:
        check(f"{tag}: DOSSIER_DATA_DIR {data_dir} is a mounted volume", data_dir in mounts)
        if kind == "StatefulSet":
            check(f"{tag}: DOSSIER_DATA_DIR is on a PersistentVolumeClaim", mounts.get(data_dir) in claims)


def check_kubernetes(docs: dict[Path, list], df: dict) -> None:
    k8s = [(p, d) for p, ds in docs.items() if "k8s" in p.parts for d in ds
           if isinstance(d, dict) and d.get("kind") != "Kustomization"]
    for p, d in k8s:
        check(f"{rel(p)}: {d.get('kind')} has apiVersion, kind and metadata.name",
              bool(d.get("apiVersion") and d.get("kind") and (d.get("metadata") or {}).get("name")))
    validate_schemas(k8s)

    # Kustomizations: every resource exists; every manifest belongs to one.
    listed: set[Path] = set()
    kustomizations = [(p, d) for p, ds in docs.items() for d in ds
                      if isinstance(d, dict) and d.get("kind") == "Kustomization"]
    check("deploy/k8s: has kustomizations", bool(kustomizations))
    for p, k in kustomizations:
        for r in k.get("resources") or []:
            target = (p.parent / r).resolve()
            listed.add(target)
            check(f"{rel(p)}: resource {r} exists", target.exists())
    for p in {p for p, _ in k8s}:
        check(f"{rel(p)}: listed in a kustomization", p.resolve() in listed)

    # Per kustomization (each is applied on its own), cross-check objects against each other.
    for kp, k in kustomizations:
        objs = [d for p, d in k8s if p.resolve() in {(kp.parent / r).resolve() for r in k.get("resources") or []}]
        workloads = [o for o in objs if o["kind"] in WORKLOAD_KINDS]
        check(f"{rel(kp)}: has a Deployment or StatefulSet", bool(workloads))
        for w in workloads:
            check_workload(kp, w, df)
        pod_labels = [(w, ((w["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}) for w in workloads]
        services = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Service"}
        check(f"{rel(kp)}: has a Service", bool(services))
        for sname, s in services.items():
            spec = s.get("spec") or {}
            targets = [w for w, l in pod_labels if labels_match(spec.get("selector") or {}, l)]
            check(f"{rel(kp)}: Service/{sname} selects the workload's pods", bool(targets))
            port = next((p for p in spec.get("ports") or [] if p.get("port") == GRPC_PORT), None)
            check(f"{rel(kp)}: Service/{sname} serves port {GRPC_PORT}", port is not None)
            if port and targets:
                tp = port.get("targetPort", GRPC_PORT)
                cports = [cp for w in targets for c in w["spec"]["template"]["spec"]["containers"]
                          for cp in c.get("ports") or []]
                check(f"{rel(kp)}: Service/{sname} targetPort {tp} is the container's gRPC port",
                      any(cp.get("containerPort") == GRPC_PORT and tp in (cp.get("name"), GRPC_PORT) for cp in cports))
        for w in workloads:
            if w["kind"] == "StatefulSet":
                sn = w["spec"].get("serviceName")
                check(f"{rel(kp)}: StatefulSet/{w['metadata']['name']} serviceName {sn} is a headless Service here",
                      sn in services and services[sn]["spec"].get("clusterIP") == "None")
        for h in (o for o in objs if o["kind"] == "HorizontalPodAutoscaler"):
            ref = h["spec"].get("scaleTargetRef") or {}
            target = next((w for w in workloads if w["kind"] == ref.get("kind") and w["metadata"]["name"] == ref.get("name")), None)
            check(f"{rel(kp)}: HPA/{h['metadata']['name']} targets {ref.get('kind')}/{ref.get('name')} defined here", target is not None)
            check(f"{rel(kp)}: HPA/{h['metadata']['name']} minReplicas <= maxReplicas",
                  h["spec"].get("minReplicas", 1) <= h["spec"].get("maxReplicas", 0))
            if target:
                uses_cpu = any((m.get("resource") or {}).get("name") == "cpu" for m in h["spec"].get("metrics") or [])
                reqs = [((c.get("resources") or {}).get("requests") or {}) for c in target["spec"]["template"]["spec"]["containers"]]
                check(f"{rel(kp)}: HPA/{h['metadata']['name']} CPU utilisation has CPU requests to measure against",
                      not uses_cpu or all("cpu" in r for r in reqs))
        for pdb in (o for o in objs if o["kind"] == "PodDisruptionBudget"):
            sel = (pdb["spec"].get("selector") or {}).get("matchLabels") or {}
            check(f"{rel(kp)}: PDB/{pdb['metadata']['name']} selects the workload's pods",
                  any(labels_match(sel, l) for _, l in pod_labels))

    kinds = {d["kind"] for _, d in k8s}
    for needed in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "StatefulSet"):
        check(f"deploy/k8s: defines a {needed}", needed in kinds)
    def data_on_claim(d: dict) -> bool:
        claims = {t["metadata"]["name"] for t in d["spec"].get("volumeClaimTemplates") or []}
        for c in d["spec"]["template"]["spec"]["containers"]:
            data_dir = env_of(c).get("DOSSIER_DATA_DIR", df["env"].get("DOSSIER_DATA_DIR"))
            if data_dir and any(m["mountPath"] == data_dir and m["name"] in claims for m in c.get("volumeMounts") or []):
                return True
        return False

    persistent = [d for _, d in k8s if d["kind"] == "StatefulSet" and data_on_claim(d)]
    check("deploy/k8s: a persistent variant keeps --data-dir on a volume claim", bool(persistent))


# ------------------------------------------------------------------------------------------
# Compose
# ------------------------------------------------------------------------------------------
def check_compose(docs: dict[Path, list], df: dict) -> None:
    path = DEPLOY / "compose.yaml"
    if not check("deploy/compose.yaml exists", path in docs):
        return
    compose = docs[path][0]
    services = compose.get("services") or {}
    if not check("compose: defines a service", bool(services)):
        return
    name, svc = next(iter(services.items()))
    tag = f"compose: service {name}"
    build = svc.get("build") or {}
    if build:
        ctx = (path.parent / build.get("context", ".")).resolve()
        check(f"{tag}: build dockerfile exists", (ctx / build.get("dockerfile", "Dockerfile")).is_file())
    ports = [str(p) for p in svc.get("ports") or []]
    check(f"{tag}: publishes container port {GRPC_PORT}", any(p.split(":")[-1].split("/")[0] == str(GRPC_PORT) for p in ports), str(ports))
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    addr = env.get("DOSSIER_ADDR", df["env"].get("DOSSIER_ADDR"))
    check(f"{tag}: DOSSIER_ADDR listens on all interfaces at {GRPC_PORT}", addr == f"0.0.0.0:{GRPC_PORT}", str(addr))
    hc = (svc.get("healthcheck") or {}).get("test") or []
    hc_text = " ".join(hc) if isinstance(hc, list) else str(hc)
    check(f"{tag}: healthcheck runs `dossier ... health`", re.search(r"\bdossier\b.*\bhealth\b", hc_text) is not None, hc_text)
    vols = [str(v) for v in svc.get("volumes") or []]
    data_dir = env.get("DOSSIER_DATA_DIR", df["env"].get("DOSSIER_DATA_DIR"))
    check(f"{tag}: DOSSIER_DATA_DIR is set", bool(data_dir))
    check(f"{tag}: DOSSIER_DATA_DIR is on a volume", any(v.split(":")[1:2] == [data_dir] for v in vols), str(vols))
    named = [v.split(":")[0] for v in vols if ":" in v and not v.startswith((".", "/"))]
    check(f"{tag}: named volumes are declared", all(n in (compose.get("volumes") or {}) for n in named))
    check(f"{tag}: stop_signal SIGTERM", svc.get("stop_signal", df["stopsignal"]) == "SIGTERM")


def main() -> int:
    df = dockerfile_facts()
    check_dockerfile(df)
    docs = load_all()
    check_kubernetes(docs, df)
    check_compose(docs, df)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
