"""Checks deploy/observability against the service and against Prometheus itself:
- promtool (Debian's, given as the first argument) parses the rules (`check rules`), runs their
  unit tests (`test rules`: each SLO alert fires on the burn it must catch and stays quiet on a
  healthy service), and parses every dashboard query (as recording rules of a scratch file);
- every series a rule, a dashboard query or the adapter rules name is one the service exports
  (service_facts.py reads them from the sources) or a recording rule of the rules file, with
  only labels it has; none is one that only the worker pool records, which no process scraped
  in this deployment exports;
- the dashboard loads as JSON, every panel has a unique id and a place, and every query panel
  has queries on the templated Prometheus data source;
- the adapter serves the External metric the worker autoscaler asks for.

Prints one line per problem and exits 1 if there is any.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

import service_facts

OBSERVABILITY = service_facts.REPOSITORY / "deploy/observability"
RULES = OBSERVABILITY / "prometheus-rules.yaml"
RULE_TESTS = OBSERVABILITY / "prometheus-rules.test.yaml"
DASHBOARD = OBSERVABILITY / "grafana-dashboard.json"
ADAPTER = OBSERVABILITY / "prometheus-adapter-rules.yaml"
AUTOSCALING = service_facts.REPOSITORY / "deploy/kubernetes/base/autoscaling.yaml"

# Labels that Prometheus's scrape adds to every series (kubernetes_sd relabelling).
TARGET_LABELS = {"job", "instance", "namespace", "pod", "container", "service", "endpoint"}
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
                "bool", "offset", "inf", "nan", "le"}


def series_names(metrics: dict[str, service_facts.Metric]) -> dict[str, tuple[service_facts.Metric, set[str]]]:
    """Every exported sample name, with its metric and the labels it carries."""
    result = {}
    for metric in metrics.values():
        for name in metric.series():
            labels = set(metric.labels) | TARGET_LABELS | ({"le"} if name.endswith("_bucket") else set())
            result[name] = (metric, labels)
    return result


def selectors(expression: str) -> list[tuple[str, set[str]]]:
    """(metric name, label names matched) for each series selector of a PromQL expression."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression)              # string contents
    text = re.sub(r"\[[^\]]*\]", "", text)                            # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r"\1", text)
    found = []
    for match in re.finditer(r"([a-zA-Z_:][\w:]*)?\s*(\{[^}]*\})|([a-zA-Z_:][\w:]*)(?=\s*(?:[^\w\s(:{]|$))|([a-zA-Z_:][\w:]*)\s*$", text):
        name = match.group(1) or match.group(3) or match.group(4)
        matchers = match.group(2) or ""
        if name is None or name.lower() in PROMQL_WORDS or re.fullmatch(r"\d+\w*", name):
            if matchers:
                found.append(("", set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", matchers))))
            continue
        found.append((name, set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", matchers))))
    return found


class Checker:
    def __init__(self, promtool: str):
        self.promtool = promtool
        self.problems: list[str] = []
        self.metrics = service_facts.metrics()
        self.series = series_names(self.metrics)
        self.rules = yaml.safe_load(RULES.read_text())
        self.recorded = {r["record"] for g in self.rules["groups"] for r in g["rules"] if "record" in r}

    def problem(self, where: str, text: str) -> None:
        self.problems.append(f"{where}: {text}")

    def check_expression(self, where: str, expression: str) -> None:
        for name, labels in selectors(expression):
            if not name:
                self.problem(where, f"a selector without a metric name in {expression!r}")
            elif name in self.recorded:
                continue
            elif name not in self.series:
                self.problem(where, f"{name} is neither a series the service exports nor a recording rule of {RULES.name}")
            else:
                metric, known = self.series[name]
                if metric.worker_pool_only:
                    self.problem(where, f"{name} is recorded only by the worker pool, which no scraped process runs here "
                                        "(fhe-jobs worker serves no metrics)")
                for label in sorted(labels - known):
                    self.problem(where, f"{name} has no label {label}")

    def promtool_run(self, *arguments: str) -> None:
        run = subprocess.run([self.promtool, *arguments], capture_output=True, text=True)
        if run.returncode != 0:
            self.problem(f"promtool {' '.join(arguments)}", (run.stdout + run.stderr).strip().replace("\n", "\n    "))

    def check_rules(self) -> None:
        self.promtool_run("check", "rules", str(RULES))
        self.promtool_run("test", "rules", str(RULE_TESTS))
        for group in self.rules["groups"]:
            for rule in group["rules"]:
                self.check_expression(f"{RULES.name}: {rule.get('record') or rule.get('alert')}", rule["expr"])
                if "alert" in rule and not {"severity", "slo"} <= set(rule.get("labels", {})):
                    self.problem(f"{RULES.name}: {rule['alert']}", "an alert needs its severity and slo labels")

    def check_dashboard(self) -> None:
        try:
            dashboard = json.loads(DASHBOARD.read_text())
        except json.JSONDecodeError as error:
            self.problem(DASHBOARD.name, f"not JSON: {error}")
            return
        if "datasource" not in {v.get("name") for v in dashboard.get("templating", {}).get("list", [])}:
            self.problem(DASHBOARD.name, "no templated data source `datasource`")
        ids, expressions = set(), []
        for panel in dashboard.get("panels", []):
            title = f"{DASHBOARD.name}: panel {panel.get('title')!r}"
            if panel.get("id") in ids or "gridPos" not in panel:
                self.problem(title, "a panel needs a unique id and a gridPos")
            ids.add(panel.get("id"))
            if panel.get("type") in {"row", "text"}:
                continue
            targets = panel.get("targets", [])
            if not targets:
                self.problem(title, "a query panel without queries")
            for target in targets:
                if target.get("datasource", {}).get("uid") != "${datasource}":
                    self.problem(title, "a query not on the templated data source ${datasource}")
                self.check_expression(title, target.get("expr", ""))
                expressions.append(target.get("expr", ""))
        # promtool parses each query as a recording rule's expression.
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as scratch:
            yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
                {"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(expressions)]}]}, scratch)
            scratch.flush()
            self.promtool_run("check", "rules", scratch.name)

    def check_adapter(self) -> None:
        adapter = yaml.safe_load(ADAPTER.read_text())
        served = set()
        for rule in adapter.get("externalRules", []):
            self.check_expression(f"{ADAPTER.name}: seriesQuery", rule["seriesQuery"])
            if not rule["metricsQuery"].startswith("max("):
                self.problem(ADAPTER.name, "every API pod reports the same queue: the query must take the max, not a sum")
            served.add(rule.get("name", {}).get("as") or selectors(rule["seriesQuery"])[0][0])
        for hpa in yaml.safe_load_all(AUTOSCALING.read_text()):
            for metric in hpa["spec"].get("metrics", []):
                if metric["type"] == "External" and metric["external"]["metric"]["name"] not in served:
                    self.problem(AUTOSCALING.name, f"the External metric {metric['external']['metric']['name']} is not one {ADAPTER.name} serves")


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: check_observability.py PROMTOOL")
        return 2
    checker = Checker(sys.argv[1])
    checker.check_rules()
    checker.check_dashboard()
    checker.check_adapter()
    for line in checker.problems:
        print(f"deploy/observability: {line}")
    print(f"deploy/observability: rules, their tests, dashboard and adapter rules: {len(checker.problems)} problems")
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main())
