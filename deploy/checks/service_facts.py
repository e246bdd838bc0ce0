"""What the service really offers, read from its sources, so that the deployment files are
checked against the code rather than against a copy of it: the `fhe-jobs` subcommands and their
flags (swift-argument-parser declarations in Sources/fhe-jobs), the environment variables the
code reads, the Prometheus metrics it registers (and those of Hummingbird's MetricsMiddleware,
which JobsHTTPServer installs), and the health probe's values in openapi.yml.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
SOURCES = REPOSITORY / "Sources"
WORKER_POOL = "Sources/Jobs/Queue/WorkerPool.swift"


def kebab(name: str) -> str:
    """swift-argument-parser's flag name for a property: `fheMaxInputMB` -> `fhe-max-input-mb`."""
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|[A-Z]+|\d+", name)
    return "-".join(w.lower() for w in words)


@dataclass
class Command:
    name: str
    flags: set[str] = field(default_factory=set)
    groups: list[str] = field(default_factory=list)


@functools.cache
def commands() -> dict[str, set[str]]:
    """The `fhe-jobs` subcommands' names and the long flags each accepts (its own, and those of
    its option groups)."""
    declared: dict[str, Command] = {}
    current: Command | None = None
    for file in sorted((SOURCES / "fhe-jobs").glob("*.swift")):
        text = file.read_text()
        for match in re.finditer(
                r"struct (\w+)\s*:|commandName:\s*\"([\w-]+)\"|@Option\((.*?)\)\s*(?:(?:private|public)\s+)?var (\w+)"
                r"|@Flag\((.*?)\)\s*var (\w+)|@OptionGroup\s+var \w+:\s*(\w+)", text, re.DOTALL):
            struct, command_name, option_args, option, flag_args, flag, group = match.groups()
            if struct:
                current = declared.setdefault(struct, Command(struct.lower()))
            elif current is None:
                continue
            elif command_name:
                current.name = command_name
            elif option or flag:
                arguments, prop = (option_args, option) if option else (flag_args, flag)
                custom = re.search(r'customLong\("([\w-]+)"\)', arguments or "")
                current.flags.add(custom.group(1) if custom else kebab(prop))
            elif group:
                current.groups.append(group)
    result = {}
    for command in declared.values():
        flags = set(command.flags)
        for group in command.groups:
            flags |= declared[group].flags if group in declared else set()
        result[command.name] = flags
    return result


@functools.cache
def environment_variables() -> set[str]:
    """Every FHE_* variable a source file reads (`environment["..."]` or getenv)."""
    names: set[str] = set()
    for file in SOURCES.rglob("*.swift"):
        text = file.read_text()
        names |= set(re.findall(r'environment\["(FHE_[A-Z0-9_]+)"\]', text))
        # A name kept in a constant, as EngineKernels.environmentVariable ("FHE_KERNELS").
        names |= set(re.findall(r'environmentVariable\s*=\s*"(FHE_[A-Z0-9_]+)"', text))
    for file in SOURCES.rglob("*.c"):
        names |= set(re.findall(r'getenv\("(FHE_[A-Z0-9_]+)"\)', file.read_text()))
    return names


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # counter, gauge or histogram, as swift-prometheus exports it
    labels: frozenset[str]
    # The files that record it, relative to the repository.
    sources: frozenset[str] = frozenset()

    @property
    def worker_pool_only(self) -> bool:
        """Recorded only by the worker pool, which no process scraped in deploy/ runs:
        `fhe-jobs worker` serves no metrics, and the API runs `serve --workers 0`."""
        return self.sources == {WORKER_POOL}

    def series(self) -> set[str]:
        """The sample names it exports: a histogram's buckets, sum and count."""
        if self.kind == "histogram":
            return {self.name + "_bucket", self.name + "_sum", self.name + "_count"}
        return {self.name}


# swift-metrics' type -> what swift-prometheus's PrometheusMetricsFactory makes of it.
METRIC_KINDS = {"Counter": "counter", "FloatingPointCounter": "counter", "Gauge": "gauge", "Meter": "gauge",
                "Recorder": "histogram", "Timer": "histogram", "makeGauge": "gauge", "makeCounter": "counter"}
METRIC_CALL = re.compile(
    r'(?:Metrics\.)?\b(Counter|FloatingPointCounter|Gauge|Meter|Recorder|Timer)\(\s*label:\s*"([^"]+)"(?:,\s*dimensions:\s*\[([^\]]*)\])?'
    r'|registry\.(makeGauge|makeCounter)\(name:\s*"([^"]+)"(?:,\s*labels:\s*\[([^\]]*)\])?')


def prometheus_name(label: str) -> str:
    """swift-prometheus's exported name: dots (OpenTelemetry-style names) become underscores."""
    return re.sub(r"[^a-zA-Z0-9_:]", "_", label)


def metrics_in(text: str, source: str) -> set[Metric]:
    found = set()
    for match in METRIC_CALL.finditer(text):
        kind, label, dimensions, factory, name, labels = match.groups()
        dims = dimensions if kind else labels
        label_names = frozenset(prometheus_name(n) for n in re.findall(r'\(\s*"([^"]+)"\s*,', dims or ""))
        found.add(Metric(prometheus_name(label or name), METRIC_KINDS[kind or factory], label_names, frozenset({source})))
    return found


def hummingbird_middleware() -> Path:
    path = REPOSITORY / ".build/checkouts/hummingbird/Sources/Hummingbird/Middleware/MetricsMiddleware.swift"
    if not path.is_file():
        raise SystemExit(f"{path} is missing: resolve the packages first (swift build, as scripts/test does)")
    return path


@functools.cache
def metrics() -> dict[str, Metric]:
    """The metrics a `fhe-jobs serve` process exports on its metrics listener."""
    found: set[Metric] = set()
    for file in SOURCES.rglob("*.swift"):
        if "/TFHE" not in str(file):
            found |= metrics_in(file.read_text(), str(file.relative_to(REPOSITORY)))
    if "MetricsMiddleware()" in (SOURCES / "JobsServer/JobsHTTPServer.swift").read_text():
        found |= metrics_in(hummingbird_middleware().read_text(), "Hummingbird's MetricsMiddleware")
    by_name: dict[str, Metric] = {}
    for metric in found:
        known = by_name.get(metric.name)
        by_name[metric.name] = metric if known is None else Metric(
            metric.name, metric.kind, known.labels | metric.labels, known.sources | metric.sources)
    return by_name


@functools.cache
def health_probes() -> set[str]:
    """The values of GET /v1/health's `probe` parameter."""
    spec = yaml.safe_load((REPOSITORY / "openapi.yml").read_text())
    parameters = spec["paths"]["/v1/health"]["get"]["parameters"]
    return {value for p in parameters if p["name"] == "probe" for value in p["schema"]["enum"]}


if __name__ == "__main__":
    for name, flags in sorted(commands().items()):
        print(name, sorted(flags))
    print(sorted(environment_variables()))
    for metric in sorted(metrics().values(), key=lambda m: m.name):
        print(metric)
    print(health_probes())
