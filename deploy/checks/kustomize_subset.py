"""Renders a kustomization as `kustomize build` does, for the subset of kustomize that deploy/
uses: there is no kustomize (nor kubectl, which embeds it) on a fresh Debian machine, and
Debian's kubernetes-client (1.20) embeds kustomize 2.0, which predates `labels` and
components. Anything outside the subset is refused by name, never ignored.

The subset (kustomize v5 semantics, https://kubectl.docs.kubernetes.io/references/kustomize/):
- `resources`: YAML files (several documents each) and directories holding a kustomization;
- `components`: directories holding a `kind: Component` kustomization, applied after the
  resources, in order (their resources added, their patches applied to everything so far);
- `namespace`: set on every namespaced object;
- `labels` with `includeSelectors: false` and no `includeTemplates`: added to metadata.labels;
- `images`: `name` with `newName`, `newTag` or `digest`, on containers and init containers;
- `patches` given by `path` or inline `patch`, without `target`: strategic-merge patches found
  by their own kind and name. Lists merge by the Kubernetes API's patch merge keys for the
  fields listed in MERGE_KEYS, and every other list is replaced whole, as the API's
  strategic merge does for lists without a merge key.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import yaml


class KustomizeError(Exception):
    """A kustomization this renderer cannot render, or that kustomize would refuse."""


KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_FIELDS = {"apiVersion", "kind", "namespace", "labels", "resources", "components", "images", "patches"}

# Kinds without a namespace, among those kustomize knows (its builtin cluster-scoped list).
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
    "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
    "APIService", "IngressClass", "RuntimeClass", "CSIDriver", "VolumeAttachment",
}

# The patch merge keys (`patchMergeKey` in the Kubernetes API's Go types) of the list fields
# that deploy/ patches. Container ports merge on containerPort, a Service's on port.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
}


def load_documents(path: Path) -> list[dict]:
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except yaml.YAMLError as error:
        raise KustomizeError(f"{path}: not YAML: {error}") from error
    for document in documents:
        if not isinstance(document, dict) or "kind" not in document or "metadata" not in document:
            raise KustomizeError(f"{path}: every document must be a Kubernetes object with kind and metadata")
    return documents


def find_kustomization(directory: Path) -> Path:
    for name in KUSTOMIZATION_FILES:
        if (directory / name).is_file():
            return directory / name
    raise KustomizeError(f"{directory}: no kustomization.yaml")


def object_id(obj: dict) -> tuple[str, str, str]:
    metadata = obj.get("metadata") or {}
    return obj["kind"], metadata.get("namespace", ""), metadata.get("name", "")


def render(directory: Path, expected_kind: str = "Kustomization", extra_components: tuple[Path, ...] = ()) -> list[dict]:
    """The objects `kustomize build directory` prints, in the order of their resources; with
    `extra_components`, as if the kustomization listed them after its own components."""
    directory = directory.resolve()
    file = find_kustomization(directory)
    spec = yaml.safe_load(file.read_text()) or {}
    if extra_components:
        spec["components"] = spec.get("components", []) + [os.path.relpath(c.resolve(), directory) for c in extra_components]
    unsupported = set(spec) - SUPPORTED_FIELDS
    if unsupported:
        raise KustomizeError(f"{file}: fields outside this renderer's subset: {', '.join(sorted(unsupported))}")
    kind = spec.get("kind", "Kustomization")
    if kind != expected_kind:
        raise KustomizeError(f"{file}: kind {kind}, expected {expected_kind}")

    for entry in spec.get("resources", []) + spec.get("components", []):
        if Path(entry).is_absolute():
            raise KustomizeError(f"{file}: {entry}: kustomize takes relative paths only")
    objects: list[dict] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            objects.extend(render(path))
        elif path.is_file():
            objects.extend(load_documents(path))
        else:
            raise KustomizeError(f"{file}: resource {entry} does not exist")
    seen: set[tuple[str, str, str]] = set()
    for obj in objects:
        if object_id(obj) in seen:
            raise KustomizeError(f"{file}: {object_id(obj)} appears twice")
        seen.add(object_id(obj))

    for entry in spec.get("components", []):
        objects = apply_component((directory / entry).resolve(), objects)
    apply_patches(directory, file, spec.get("patches", []), objects)
    if "namespace" in spec:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = spec["namespace"]
    for entry in spec.get("labels", []):
        if entry.get("includeSelectors", False) or entry.get("includeTemplates", False) or set(entry) - {"pairs", "includeSelectors", "includeTemplates"}:
            raise KustomizeError(f"{file}: labels: only `pairs` with includeSelectors: false is in this renderer's subset")
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(entry["pairs"])
    for image in spec.get("images", []):
        set_image(file, image, objects)
    return objects


def apply_component(directory: Path, objects: list[dict]) -> list[dict]:
    file = find_kustomization(directory)
    spec = yaml.safe_load(file.read_text()) or {}
    if spec.get("kind") != "Component":
        raise KustomizeError(f"{file}: a component must be kind: Component")
    unsupported = set(spec) - {"apiVersion", "kind", "resources", "patches"}
    if unsupported:
        raise KustomizeError(f"{file}: fields outside this renderer's subset for components: {', '.join(sorted(unsupported))}")
    combined = list(objects)
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        if not path.is_file():
            raise KustomizeError(f"{file}: resource {entry} is not a file")
        combined.extend(load_documents(path))
    apply_patches(directory, file, spec.get("patches", []), combined)
    return combined


def apply_patches(directory: Path, file: Path, entries: list, objects: list[dict]) -> None:
    for entry in entries:
        if "target" in entry or set(entry) - {"path", "patch"}:
            raise KustomizeError(f"{file}: a patch with `target` or options is outside this renderer's subset")
        if "path" in entry:
            patches = load_documents((directory / entry["path"]).resolve())
        else:
            patches = [d for d in yaml.safe_load_all(entry["patch"]) if d is not None]
        for patch in patches:
            kind, name = patch["kind"], patch["metadata"]["name"]
            matches = [o for o in objects if o["kind"] == kind and o["metadata"].get("name") == name]
            if len(matches) != 1:
                raise KustomizeError(f"{file}: the patch of {kind} {name} matches {len(matches)} objects, not one")
            merged = strategic_merge(matches[0], patch, ())
            matches[0].clear()
            matches[0].update(merged)


def strategic_merge(original, patch, path: tuple):
    if isinstance(original, dict) and isinstance(patch, dict):
        if any(str(k).startswith("$") for k in patch):
            raise KustomizeError(f"{'.'.join(path)}: patch directives ($patch, $retainKeys...) are outside this renderer's subset")
        result = copy.deepcopy(original)
        for key, value in patch.items():
            if value is None:
                result.pop(key, None)
            elif key in result:
                result[key] = strategic_merge(result[key], value, path + (key,))
            else:
                result[key] = copy.deepcopy(value)
        return result
    if isinstance(original, list) and isinstance(patch, list):
        key = merge_key(path, original + patch)
        if key is None:
            return copy.deepcopy(patch)
        # kustomize (kyaml) puts the patch's items first, in the patch's order, merged with the
        # original's item of the same key where there is one, then the original's other items.
        result = []
        for item in patch:
            if not isinstance(item, dict) or key not in item:
                raise KustomizeError(f"{'.'.join(path)}: every item of a merged list needs its `{key}`")
            existing = next((o for o in original if o.get(key) == item[key]), None)
            result.append(copy.deepcopy(item) if existing is None else strategic_merge(existing, item, path + (str(item[key]),)))
        patched = {item[key] for item in patch}
        result.extend(copy.deepcopy(o) for o in original if o.get(key) not in patched)
        return result
    return copy.deepcopy(patch)


def merge_key(path: tuple, items: list) -> str | None:
    field = path[-1] if path else ""
    if field == "ports":
        # A container's ports merge on containerPort, a Service's on port.
        return "containerPort" if "containers" in path or "initContainers" in path else "port"
    return MERGE_KEYS.get(field)


def set_image(file: Path, image: dict, objects: list[dict]) -> None:
    unsupported = set(image) - {"name", "newName", "newTag", "digest"}
    if unsupported or ("newTag" in image and "digest" in image):
        raise KustomizeError(f"{file}: images: {image} is outside this renderer's subset")
    for obj in objects:
        pod = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            name, reference = split_image(container.get("image", ""))
            if name != image["name"]:
                continue
            new = image.get("newName", name)
            if "digest" in image:
                container["image"] = f"{new}@{image['digest']}"
            elif "newTag" in image:
                container["image"] = f"{new}:{image['newTag']}"
            else:
                container["image"] = new + reference


def split_image(image: str) -> tuple[str, str]:
    """("registry/name", ":tag" or "@sha256:..." or "")."""
    if "@" in image:
        name, digest = image.split("@", 1)
        return name, "@" + digest
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon:]
    return image, ""
