"""Lints deploy/container/Dockerfile against what the image must be (no Docker here, so the image
is not built by the tests): a multi-stage build of the `fhe-jobs` product with the static Swift
standard library, a runtime stage without the toolchain that runs as a numeric non-root user,
the C libraries the package links installed in both stages, pinned base images, and the
paths and ports the Kubernetes manifests expect.

Prints one line per problem and exits 1 if there is any.
"""
from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import dataclass, field

import yaml

import service_facts

REPOSITORY = service_facts.REPOSITORY
DOCKERFILE = REPOSITORY / "deploy/container/Dockerfile"
DOCKERIGNORE = REPOSITORY / "deploy/container/Dockerfile.dockerignore"
CONFIGMAP = REPOSITORY / "deploy/kubernetes/base/configmap.yaml"

# The Debian (bookworm) package that holds each library a module map links at run time.
# A library linked without an entry here fails the check: add its package to the table and to
# the Dockerfile's runtime stage.
RUNTIME_PACKAGES = {"gmp": "libgmp10", "ecm": "libecm1", "secp256k1": "libsecp256k1-1", "sqlite3": "libsqlite3-0"}


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [argument for k, argument in self.instructions if k == keyword]


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) with continuation lines joined and comments dropped."""
    result, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, argument = pending.strip().partition(" ")
        result.append((keyword.upper(), argument.strip()))
        pending = ""
    return result


def stages(parsed: list[tuple[str, str]]) -> tuple[dict[str, str], list[Stage]]:
    arguments: dict[str, str] = {}
    found: list[Stage] = []
    for keyword, argument in parsed:
        if keyword == "ARG" and not found:
            name, _, default = argument.partition("=")
            arguments[name] = default
        elif keyword == "FROM":
            words = argument.split()
            image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: arguments.get(m.group(1) or m.group(2), m.group(0)), words[0])
            found.append(Stage(image, words[2] if len(words) == 3 and words[1].upper() == "AS" else None))
        elif found:
            found[-1].instructions.append((keyword, argument))
    return arguments, found


def linked_libraries() -> set[str]:
    names = {"sqlite3"}  # GRDB.swift links the system SQLite
    for modulemap in (REPOSITORY / "Sources").glob("*/module.modulemap"):
        names |= set(re.findall(r'link\s+"([\w+-]+)"', modulemap.read_text()))
    return names


# The static Foundation's URLSession (FoundationNetworking) links libcurl: the -dev package to
# build with --static-swift-stdlib ("cannot find -lcurl" without it), the library to run.
CURL_PACKAGES = ("libcurl4-openssl-dev", "libcurl4")


def uses_foundation_networking() -> bool:
    return any("import FoundationNetworking" in f.read_text() for f in (REPOSITORY / "Sources").rglob("*.swift"))


def build_packages() -> set[str]:
    """The -dev packages scripts/test installs to build the package, and libcurl's if the static
    Foundation links it."""
    line = next(l for l in (REPOSITORY / "scripts/test").read_text().splitlines() if l.startswith("ensure_debian_packages"))
    return {word for word in line.split()[1:] if word.endswith("-dev")} | ({CURL_PACKAGES[0]} if uses_foundation_networking() else set())


def runtime_packages() -> set[str]:
    packages = {RUNTIME_PACKAGES.get(l, f"<the package of lib{l}>") for l in linked_libraries()}
    return packages | ({CURL_PACKAGES[1]} if uses_foundation_networking() else set())


def apt_packages(run: str) -> set[str]:
    packages: set[str] = set()
    for command in re.split(r"&&|;", run):
        words = shlex.split(command)
        if "apt-get" in words and "install" in words:
            packages |= {w for w in words[words.index("install") + 1:] if not w.startswith("-")}
    return packages


def check() -> list[str]:
    problems: list[str] = []
    arguments, found = stages(instructions(DOCKERFILE.read_text()))
    if len(found) < 2:
        return [f"{DOCKERFILE}: one stage; the image must be built in one stage and run from another"]
    build, runtime = found[0], found[-1]

    for stage in found:
        repository, _, tag = stage.image.rpartition(":")
        if "@sha256:" not in stage.image and (not repository or tag in {"", "latest"}):
            problems.append(f"FROM {stage.image}: pin the base image to a version tag or digest")
    if "swift" in runtime.image:
        problems.append(f"the runtime stage starts from {runtime.image}: the toolchain has no place in the image")

    # Each `swift build` command (a RUN may chain several), the build itself and the one that
    # asks where it put the binary: both in release with the static standard library.
    builds = [c for run in build.all("RUN") for c in re.split(r"&&|;|\$\(", run) if "swift build" in c]
    if not any("--product fhe-jobs" in c for c in builds):
        problems.append("the build stage runs no `swift build --product fhe-jobs`")
    for command in builds:
        for needed in ("-c release", "--static-swift-stdlib"):
            if needed not in command:
                problems.append(f"`{command.strip()}` lacks {needed}")
    if '.executable(name: "fhe-jobs"' not in (REPOSITORY / "Package.swift").read_text():
        problems.append("Package.swift has no fhe-jobs executable product")

    for stage, needed, what in ((build, build_packages(), "to build (as scripts/test installs them, and libcurl's for the static Foundation)"),
                                (runtime, runtime_packages(), "at run time (the libraries the module maps and the static Foundation link)")):
        installed = set().union(*(apt_packages(run) for run in stage.all("RUN")))
        for package in sorted(needed - installed):
            problems.append(f"stage {stage.name or stage.image} does not install {package}, needed {what}")
        for run in stage.all("RUN"):
            if "apt-get install" in run and ("--no-install-recommends" not in run or "rm -rf /var/lib/apt/lists" not in run):
                problems.append("apt-get install without --no-install-recommends, or without removing the lists in the same layer")

    for keyword, argument in runtime.instructions:
        if keyword == "ADD" and re.search(r"https?://", argument):
            problems.append(f"ADD {argument}: a download in the image build, unchecked")
    users = runtime.all("USER")
    user = users[-1] if users else ""
    if not re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", user):
        problems.append(f"the runtime stage must end as a numeric non-root USER (uid:gid), not {user or 'root'}")
    keywords = [k for k, _ in runtime.instructions]
    if "USER" in keywords and "RUN" in keywords[len(keywords) - 1 - keywords[::-1].index("USER"):]:
        problems.append("a RUN after the last USER: set the user once the image is complete")

    entrypoint = runtime.all("ENTRYPOINT")
    try:
        command = json.loads(entrypoint[-1]) if entrypoint else None
    except json.JSONDecodeError:
        command = None
    if not isinstance(command, list):
        problems.append("ENTRYPOINT must be in exec form (a JSON array), so signals reach fhe-jobs")
    elif not any(f"/out{command[0]}" in run for run in build.all("RUN")) or "--from=build /out/ /" not in " ".join(runtime.all("COPY")):
        problems.append(f"ENTRYPOINT {command[0]} is not where the build stage installs fhe-jobs (/out{command[0]}, copied to /)")

    environment: dict[str, str] = {}
    for argument in runtime.all("ENV"):
        for pair in shlex.split(argument):
            name, _, value = pair.partition("=")
            environment[name] = value
    known = service_facts.environment_variables()
    for name in environment:
        if name not in known:
            problems.append(f"ENV {name}: the service reads no such variable")
    configmap = yaml.safe_load(CONFIGMAP.read_text())["data"]
    params = environment.get("FHE_PARAMS_DIR")
    if not params or not any(f"/out{params}" in run and "params" in run for run in build.all("RUN")):
        problems.append(f"FHE_PARAMS_DIR={params} is not where the build stage puts params/")
    if configmap.get("FHE_PARAMS_DIR") != params:
        problems.append(f"the ConfigMap's FHE_PARAMS_DIR ({configmap.get('FHE_PARAMS_DIR')}) is not the image's ({params})")
    data_dir = environment.get("FHE_JOBS_DATA_DIR")
    if configmap.get("FHE_JOBS_DATA_DIR") != data_dir or runtime.all("WORKDIR")[-1:] != [data_dir]:
        problems.append(f"the image's data folder ({data_dir}), its WORKDIR and the ConfigMap's FHE_JOBS_DATA_DIR differ")
    uid = user.split(":")[0]
    if not any(f"-o {uid}" in run and str(data_dir) in run for run in runtime.all("RUN")):
        problems.append(f"the data folder {data_dir} is not made for the user {uid}")
    exposed = {int(p) for argument in runtime.all("EXPOSE") for p in argument.split()}
    ports = {int(configmap["FHE_JOBS_PORT"]), int(configmap["FHE_JOBS_METRICS_PORT"])}
    if exposed != ports:
        problems.append(f"EXPOSE {sorted(exposed)} is not the ConfigMap's ports {sorted(ports)}")

    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip() and not line.startswith("#")}
    for needed in (".git", ".build"):
        if needed not in ignored:
            problems.append(f"{DOCKERIGNORE.name} must keep {needed} out of the build context")
    return problems


def main() -> int:
    problems = check()
    for line in problems:
        print(f"deploy/container/Dockerfile: {line}")
    print(f"deploy/container/Dockerfile: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
