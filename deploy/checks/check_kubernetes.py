"""Renders every overlay of deploy/kubernetes (alone, and with each component), validates every
object against the Kubernetes OpenAPI schemas of the versions below in strict mode (an unknown
field fails), and checks what a schema cannot see: that the commands, flags and environment
variables are the service's own, that probes ask for a health probe the API has, that every
referenced volume, ConfigMap, Secret, Service port and scale target exists (or is one the
operator makes, as deploy/README.md says), that the secret files the service reads come from
the memory volume the init container fills, the pod security settings, and that the
key-encryption key is held by `fhe-jobs keyservice` pods alone, which only API pods may reach.

Prints one line per problem and exits 1 if there is any.
"""
from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path

import kubernetes_validate

import service_facts
from kustomize_subset import KustomizeError, render, split_image

KUBERNETES = service_facts.REPOSITORY / "deploy/kubernetes"
README = service_facts.REPOSITORY / "deploy/README.md"
# The oldest release the manifests use features of (PodDisruptionBudget's
# unhealthyPodEvictionPolicy and the preStop sleep action are on by default from 1.31) and the
# newest that kubernetes-validate ships schemas for.
KUBERNETES_VERSIONS = ["1.31.0", "1.37.0"]
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
SERVICE_IMAGE = "fhe-jobs"
# Variables naming a file or folder the service reads, besides those ending in _FILE.
PATH_VARIABLES = {"FHE_JOBS_JWKS", "FHE_JOBS_DATA_DIR", "FHE_PARAMS_DIR",
                  "FHE_JOBS_KEY_SERVICE_CERTIFICATE", "FHE_JOBS_KEY_SERVICE_CA",
                  "FHE_JOBS_KEYSERVICE_TLS_CERTIFICATE", "FHE_JOBS_KEYSERVICE_TLS_CLIENT_CA"}
# Private keys that the service reads through SecretFile (owner-only), besides *_FILE.
SECRET_FILE_VARIABLES = {"FHE_JOBS_KEY_SERVICE_KEY", "FHE_JOBS_KEYSERVICE_TLS_KEY"}
# The key-encryption key (Sources/FHEJobs/Keys/KeyEncryptionKey.swift) and its Secret.
KEK_VARIABLES = {"FHE_JOBS_KEK_FILE", "FHE_JOBS_KEK"}
KEK_SECRET = "fhe-jobs-kek"
KEY_SERVICE_COMMAND = "keyservice"


def renderings() -> dict[str, list[dict]]:
    """Each overlay, and each overlay with each component, rendered."""
    overlays = sorted(p for p in (KUBERNETES / "overlays").iterdir() if p.is_dir())
    components = sorted(p for p in (KUBERNETES / "components").iterdir() if p.is_dir())
    result = {f"overlays/{o.name}": render(o) for o in overlays}
    for overlay in overlays:
        for component in components:
            result[f"overlays/{overlay.name} + components/{component.name}"] = render(overlay, extra_components=(component,))
    return result


@functools.cache
def schema_problem(serialized: str, version: str) -> str | None:
    """What Kubernetes `version`'s schema, strict, finds wrong with the object (most objects are
    the same in every rendering, and a schema check reads large schema files, so once each)."""
    try:
        kubernetes_validate.validate(json.loads(serialized), version, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(p) for p in error.path)
        return f"Kubernetes {version} schema: {where}: {error.message}"
    except kubernetes_validate.SchemaNotFoundError as error:
        return f"Kubernetes {version} has no schema for it: {error}"
    return None


class Checker:
    def __init__(self, rendering: str, objects: list[dict]):
        self.rendering = rendering
        self.objects = objects
        self.problems: list[str] = []
        self.commands = service_facts.commands()
        self.environment = service_facts.environment_variables()
        self.probes = service_facts.health_probes()
        self.readme = README.read_text()

    def problem(self, obj: dict, text: str) -> None:
        self.problems.append(f"{self.rendering}: {obj['kind']} {obj['metadata'].get('name')}: {text}")

    def named(self, kind: str) -> dict[str, dict]:
        return {o["metadata"]["name"]: o for o in self.objects if o["kind"] == kind}

    def run(self) -> list[str]:
        for obj in self.objects:
            for version in KUBERNETES_VERSIONS:
                problem = schema_problem(json.dumps(obj, sort_keys=True), version)
                if problem:
                    self.problem(obj, problem)
            if obj["kind"] not in {"Namespace"} and obj["metadata"].get("namespace") != "fhe-jobs":
                self.problem(obj, "not in the fhe-jobs namespace")
            if obj["kind"] in WORKLOADS:
                self.check_pod(obj, obj["spec"]["template"])
        self.check_selectors()
        self.check_references()
        self.check_key_service_reach()
        return self.problems

    # MARK: pods

    def check_pod(self, obj: dict, template: dict) -> None:
        pod = template["spec"]
        security = pod.get("securityContext", {})
        if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            self.problem(obj, "the pod's seccompProfile must be RuntimeDefault")
        if not security.get("runAsNonRoot") or not security.get("runAsUser"):
            self.problem(obj, "the pod must set runAsNonRoot and a non-zero runAsUser")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        claims = {t["metadata"]["name"] for t in obj["spec"].get("volumeClaimTemplates", [])}
        containers = pod.get("initContainers", []) + pod["containers"]
        for container in containers:
            self.check_container(obj, container, volumes.keys() | claims)
        # The containers that run the service's image (the overlays may move it to a registry).
        for container in containers:
            if split_image(container["image"])[0].rpartition("/")[2] == SERVICE_IMAGE:
                self.check_service_container(obj, pod, container, volumes)
        # The key-encryption key's Secret is mounted only where `fhe-jobs keyservice` runs.
        secrets = {v.get("secret", {}).get("secretName") for v in pod.get("volumes", [])} | {
            s["secret"]["name"] for v in pod.get("volumes", []) for s in v.get("projected", {}).get("sources", []) if "secret" in s}
        commands = {(c.get("args") or [None])[0] for c in pod["containers"]}
        if KEK_SECRET in secrets and commands != {KEY_SERVICE_COMMAND}:
            self.problem(obj, f"mounts the Secret {KEK_SECRET} (the key-encryption key), but only `fhe-jobs {KEY_SERVICE_COMMAND}` pods may hold it")

    def check_container(self, obj: dict, container: dict, volumes: set[str]) -> None:
        name = container["name"]
        security = container.get("securityContext", {})
        if security.get("allowPrivilegeEscalation") is not False:
            self.problem(obj, f"{name}: allowPrivilegeEscalation must be false")
        if security.get("capabilities", {}).get("drop") != ["ALL"]:
            self.problem(obj, f"{name}: capabilities must drop ALL")
        if security.get("readOnlyRootFilesystem") is not True:
            self.problem(obj, f"{name}: the root filesystem must be read-only")
        resources = container.get("resources", {})
        for kind, needed in (("requests", ("cpu", "memory")), ("limits", ("memory",))):
            for resource in needed:
                if resource not in resources.get(kind, {}):
                    self.problem(obj, f"{name}: no {kind}.{resource}")
        image, reference = split_image(container.get("image", ""))
        if not reference or reference == ":latest":
            self.problem(obj, f"{name}: the image {container.get('image')} names no tag or digest (or `latest`)")
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in volumes:
                self.problem(obj, f"{name}: mounts {mount['name']}, which is not a volume of the pod")

    def check_service_container(self, obj: dict, pod: dict, container: dict, volumes: dict) -> None:
        name = container["name"]
        arguments = container.get("args")
        if arguments is not None:
            command = arguments[0]
            if command not in self.commands:
                self.problem(obj, f"{name}: `fhe-jobs {command}` is no subcommand of fhe-jobs")
            else:
                for argument in arguments[1:]:
                    flag = re.match(r"--([\w-]+)", argument)
                    if flag and flag.group(1) not in self.commands[command]:
                        self.problem(obj, f"{name}: `fhe-jobs {command}` has no flag --{flag.group(1)}")
        elif container.get("command", [""])[0] != "install":
            self.problem(obj, f"{name}: runs the image without saying which fhe-jobs command")
        environment = {e["name"]: e for e in container.get("env", [])}
        configmaps = self.named("ConfigMap")
        for source in container.get("envFrom", []):
            reference = source.get("configMapRef", {}).get("name")
            if reference in configmaps:
                environment.update({k: {"name": k, "value": v} for k, v in configmaps[reference].get("data", {}).items()})
        for variable in environment:
            if variable not in self.environment:
                self.problem(obj, f"{name}: the service reads no environment variable {variable}")
        mounts = container.get("volumeMounts", [])
        for variable, entry in environment.items():
            value = entry.get("value", "")
            secret = variable.endswith("_FILE") or variable in SECRET_FILE_VARIABLES
            if (secret or variable in PATH_VARIABLES) and value:
                if variable == "FHE_PARAMS_DIR":
                    continue  # in the image (check_dockerfile.py checks it is put there)
                mount = next((m for m in mounts if value == m["mountPath"] or value.startswith(m["mountPath"].rstrip("/") + "/")), None)
                if mount is None:
                    self.problem(obj, f"{name}: {variable}={value} is on no mounted volume (the root filesystem is read-only)")
                elif secret:
                    self.check_secret_file(obj, pod, name, variable, value, mount, volumes)
        command = (arguments or [None])[0]
        self.check_key_encryption_key(obj, name, command, environment)
        for probe_name in ("startupProbe", "livenessProbe", "readinessProbe"):
            probe = container.get(probe_name)
            if probe is None:
                continue
            if "tcpSocket" in probe:
                # Only the key service serves no HTTP of its own to probe.
                if command != KEY_SERVICE_COMMAND:
                    self.problem(obj, f"{name}: {probe_name} is a TCP connect, but `fhe-jobs {command}` serves /v1/health")
                port = probe["tcpSocket"].get("port")
            else:
                path = probe.get("httpGet", {}).get("path", "")
                port = probe.get("httpGet", {}).get("port")
                if command == KEY_SERVICE_COMMAND:
                    # Its operator's listener (ProcessEndpoint.swift) answers GET /health.
                    if path != "/health":
                        self.problem(obj, f"{name}: {probe_name} asks for {path}, but the key service answers /health")
                    metrics_port = environment.get("FHE_JOBS_KEYSERVICE_METRICS_PORT", {}).get("value")
                    declared = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
                    if str(declared.get(port, port)) != str(metrics_port):
                        self.problem(obj, f"{name}: {probe_name} on port {port}, not the operator's listener "
                                          f"(FHE_JOBS_KEYSERVICE_METRICS_PORT={metrics_port})")
                else:
                    match = re.fullmatch(r"/v1/health\?probe=(\w+)", path)
                    if not match or match.group(1) not in self.probes:
                        self.problem(obj, f"{name}: {probe_name} asks for {path}, not /v1/health?probe=one of {sorted(self.probes)}")
            if port not in {p.get("name") for p in container.get("ports", [])} | {p["containerPort"] for p in container.get("ports", [])}:
                self.problem(obj, f"{name}: {probe_name} on port {port}, which the container does not declare")

    def check_key_encryption_key(self, obj: dict, name: str, command: str | None, environment: dict) -> None:
        """The key-encryption key opens every owner's key set: only the key service holds it,
        and the API reaches the key service instead (README.md, "The key service")."""
        holds = sorted(KEK_VARIABLES & environment.keys())
        if holds and command != KEY_SERVICE_COMMAND:
            self.problem(obj, f"{name}: `fhe-jobs {command}` is given the key-encryption key ({', '.join(holds)}); "
                              f"only `fhe-jobs {KEY_SERVICE_COMMAND}` may hold it")
        if command == KEY_SERVICE_COMMAND and not holds:
            self.problem(obj, f"{name}: the key service is given no key-encryption key (FHE_JOBS_KEK_FILE)")
        if command == "serve" and "FHE_JOBS_KEY_SERVICE" not in environment:
            self.problem(obj, f"{name}: the API must reach the key service (FHE_JOBS_KEY_SERVICE), not run one of its own")

    def check_key_service_reach(self) -> None:
        """Pods that run the key service are admitted by NetworkPolicies from API pods alone,
        except on their operator's listener (metrics and health), which holds no key."""
        def runs(obj: dict) -> set:
            return {(c.get("args") or [None])[0] for c in obj["spec"]["template"]["spec"]["containers"]}

        def selects(selector: dict, obj: dict) -> bool:
            labels = obj["spec"]["template"]["metadata"].get("labels", {})
            return all(labels.get(k) == v for k, v in selector.items())

        def operator_ports(obj: dict) -> set:
            return {int(e["value"]) for c in obj["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])
                    if e.get("name") == "FHE_JOBS_KEYSERVICE_METRICS_PORT" and str(e.get("value", "")).isdigit()}

        workloads = [o for o in self.objects if o["kind"] in WORKLOADS]
        for key_service in (o for o in workloads if KEY_SERVICE_COMMAND in runs(o)):
            operator = operator_ports(key_service) - {0}
            policies = [p for p in self.objects if p["kind"] == "NetworkPolicy" and "Ingress" in p["spec"].get("policyTypes", [])
                        and selects(p["spec"]["podSelector"].get("matchLabels", {}), key_service)]
            if not any(p["spec"].get("ingress") for p in policies):
                self.problem(key_service, "no NetworkPolicy admits the API to the key service's pods")
            for policy in policies:
                for rule in policy["spec"].get("ingress", []):
                    ports = {p.get("port") for p in rule.get("ports", [])}
                    if ports and ports <= operator:
                        continue
                    peers = rule.get("from", [])
                    if not peers:
                        self.problem(policy, "admits every peer to the key service's pods; only API pods may reach them")
                    for peer in peers:
                        selector = peer.get("podSelector", {}).get("matchLabels") or {}
                        selected = [o for o in workloads if selector and selects(selector, o)]
                        if set(peer) != {"podSelector"} or not selected or any(runs(o) != {"serve"} for o in selected):
                            self.problem(policy, f"admits {peer} to the key service's pods; only API pods may reach them")

    def check_secret_file(self, obj, pod, name, variable, value, mount, volumes) -> None:
        """A secret key file must come from the memory volume that the init container fills
        with mode-0400 copies, because the service refuses group-readable key files."""
        volume = volumes.get(mount["name"], {})
        if volume.get("emptyDir", {}).get("medium") != "Memory":
            self.problem(obj, f"{name}: {variable} must be on the memory volume of owner-only copies, not {mount['name']}")
            return
        copies = [c for c in pod.get("initContainers", []) if c.get("command", [""])[0] == "install"
                  and any(m["name"] == mount["name"] for m in c.get("volumeMounts", []))]
        copied = {Path(mount["mountPath"], Path(source).name).as_posix()
                  for c in copies for source in c["command"][5:]}
        if value not in copied:
            self.problem(obj, f"{name}: {variable}={value} is not a file the init container copies")
        for copy in copies:
            command = copy["command"]
            if command[:5] != ["install", "-m", "0400", "-t", command[4]] or not command[4]:
                self.problem(obj, f"{copy['name']}: the copies must be made with `install -m 0400 -t DIR`")
            init_mounts = {m["mountPath"]: volumes.get(m["name"], {}) for m in copy.get("volumeMounts", [])}
            for source in command[5:]:
                folder, file = str(Path(source).parent), Path(source).name
                projected = init_mounts.get(folder, {}).get("projected", {}).get("sources", [])
                paths = {item["path"] for s in projected for item in s.get("secret", {}).get("items", [])}
                if file not in paths:
                    self.problem(obj, f"{copy['name']}: copies {source}, which no mounted Secret provides")

    # MARK: links between objects

    def check_selectors(self) -> None:
        pods = [(o, o["spec"]["template"]["metadata"].get("labels", {})) for o in self.objects if o["kind"] in WORKLOADS]
        namespace_pods = [labels for _, labels in pods]

        def matches(selector: dict) -> bool:
            return any(all(labels.get(k) == v for k, v in selector.items()) for labels in namespace_pods)

        for obj in self.objects:
            spec = obj.get("spec", {})
            if obj["kind"] == "Service" and not matches(spec.get("selector", {})):
                self.problem(obj, "its selector matches no pod")
            if obj["kind"] == "Service":
                for port in spec.get("ports", []):
                    target = port.get("targetPort")
                    names = {p.get("name") for o, labels in pods if all(labels.get(k) == v for k, v in spec["selector"].items())
                             for c in o["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
                    if isinstance(target, str) and target not in names:
                        self.problem(obj, f"port {port['name']} targets {target}, which no selected container names")
            if obj["kind"] in {"PodDisruptionBudget"} and not matches(spec["selector"]["matchLabels"]):
                self.problem(obj, "its selector matches no pod")
            if obj["kind"] == "NetworkPolicy":
                selector = spec["podSelector"].get("matchLabels", {})
                if selector and not matches(selector):
                    self.problem(obj, "its podSelector matches no pod")
                for rule in spec.get("egress", []) + spec.get("ingress", []):
                    for peer in rule.get("to", []) + rule.get("from", []):
                        if "podSelector" in peer and "namespaceSelector" not in peer and not matches(peer["podSelector"].get("matchLabels", {})):
                            self.problem(obj, f"a peer {peer['podSelector']} matches no pod in the namespace")
            if obj["kind"] in WORKLOADS and obj["kind"] != "Job":
                selector = spec["selector"]["matchLabels"]
                labels = spec["template"]["metadata"].get("labels", {})
                if any(labels.get(k) != v for k, v in selector.items()):
                    self.problem(obj, "its selector does not match its own pod template")
            if obj["kind"] == "HorizontalPodAutoscaler":
                target = spec["scaleTargetRef"]
                if target["name"] not in self.named(target["kind"]):
                    self.problem(obj, f"scales {target['kind']} {target['name']}, which is not here")
                elif "replicas" in self.named(target["kind"])[target["name"]]["spec"]:
                    self.problem(obj, f"{target['name']} sets replicas, which every apply would reset under the autoscaler")
                for metric in spec.get("metrics", []):
                    if metric["type"] == "External":
                        name = metric["external"]["metric"]["name"]
                        known = service_facts.metrics()
                        if name not in known:
                            self.problem(obj, f"the external metric {name} is no metric the service exports")
                        else:
                            for label in metric["external"]["metric"].get("selector", {}).get("matchLabels", {}):
                                if label not in known[name].labels:
                                    self.problem(obj, f"{name} has no label {label}")

    def check_references(self) -> None:
        """ConfigMaps, Secrets and claims that pods use: here, or among those deploy/README.md
        tells the operator to make (named there in backquotes)."""
        present = {(o["kind"], o["metadata"]["name"]) for o in self.objects}
        for obj in self.objects:
            if obj["kind"] not in WORKLOADS:
                continue
            pod = obj["spec"]["template"]["spec"]
            wanted: set[tuple[str, str]] = set()
            for volume in pod.get("volumes", []):
                if "configMap" in volume:
                    wanted.add(("ConfigMap", volume["configMap"]["name"]))
                if "secret" in volume:
                    wanted.add(("Secret", volume["secret"]["secretName"]))
                if "persistentVolumeClaim" in volume:
                    wanted.add(("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]))
                for source in volume.get("projected", {}).get("sources", []):
                    if "secret" in source:
                        wanted.add(("Secret", source["secret"]["name"]))
                    if "configMap" in source:
                        wanted.add(("ConfigMap", source["configMap"]["name"]))
            for container in pod.get("initContainers", []) + pod["containers"]:
                for source in container.get("envFrom", []):
                    for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                        if key in source:
                            wanted.add((kind, source[key]["name"]))
                for entry in container.get("env", []):
                    reference = entry.get("valueFrom", {})
                    for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                        if key in reference:
                            wanted.add((kind, reference[key]["name"]))
            for kind, name in sorted(wanted):
                if (kind, name) not in present and f"`{name}`" not in self.readme:
                    self.problem(obj, f"uses the {kind} {name}, which is neither here nor among those deploy/README.md makes")


def main() -> int:
    try:
        rendered = renderings()
    except KustomizeError as error:
        print(f"deploy/kubernetes: {error}")
        return 1
    problems: list[str] = []
    for name, objects in rendered.items():
        problems += Checker(name, objects).run()
    for line in problems:
        print(line)
    count = sum(len(objects) for objects in rendered.values())
    print(f"deploy/kubernetes: {len(rendered)} renderings, {count} objects, strict schemas of Kubernetes "
          f"{' and '.join(KUBERNETES_VERSIONS)}: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
