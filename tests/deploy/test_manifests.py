"""deploy/kubernetes/: the core manifests against Kubernetes' own schemas (offline, pinned
version), the KServe ones loaded into the `kserve` package's resource models."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kserve
import kubernetes.client
import kubernetes_validate
import pytest
import yaml
from kserve import ApiClient

KUBERNETES_VERSION = "1.33.0"
"""The schema version the core manifests are checked against (a release clusters run today)."""

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
CORE = ["deployment.yaml", "service.yaml", "hpa.yaml"]
KSERVE = {
    "kserve-servingruntime.yaml": "V1alpha1ServingRuntime",
    "kserve-inferenceservice.yaml": "V1beta1InferenceService",
}
PRIMITIVES: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "int": int,
    "float": (int, float),
    "bool": bool,
    "object": object,
}


def load(name: str) -> dict[str, Any]:
    with (MANIFESTS / name).open() as fh:
        doc = yaml.safe_load(fh)
    assert isinstance(doc, dict), f"{name} holds one YAML mapping"
    return doc


def model_class(name: str) -> type:
    """KServe's models refer to Kubernetes' (V1ObjectMeta, V1EnvVar, ...) by class name, which
    kserve.ApiClient alone cannot resolve: look in both packages."""
    found = getattr(kserve.models, name, None) or getattr(kubernetes.client.models, name, None)
    assert found is not None, f"no model class {name}"
    return found  # type: ignore[no-any-return]


def to_model(data: Any, type_name: str, path: str) -> Any:
    """Build the typed model tree for `data`, as ApiClient.deserialize does, but fail on keys the
    model does not know (deserialize drops them silently, hiding a typo such as `readinesProbe`)."""
    # Generated models spell containers both ways: list[X] or List[X], dict(str, X) or Dict[str, X].
    if match := re.fullmatch(r"[Ll]ist\[(.*)\]", type_name):
        assert isinstance(data, list), f"{path}: expected a list"
        return [to_model(item, match[1], f"{path}[{i}]") for i, item in enumerate(data)]
    if match := re.fullmatch(r"(?:dict\(|Dict\[)([^,]*), (.*)[)\]]", type_name):
        assert isinstance(data, dict), f"{path}: expected a mapping"
        return {key: to_model(value, match[2], f"{path}.{key}") for key, value in data.items()}
    if type_name in PRIMITIVES:
        assert isinstance(data, PRIMITIVES[type_name]), f"{path}: expected {type_name}"
        return data
    klass = model_class(type_name)
    assert isinstance(data, dict), f"{path}: expected a {type_name} mapping"
    by_key = {key: attr for attr, key in klass.attribute_map.items()}  # type: ignore[attr-defined]
    unknown = sorted(set(data) - set(by_key))
    assert not unknown, f"{path}: {type_name} has no field(s) {unknown}"
    types = klass.openapi_types  # type: ignore[attr-defined]
    kwargs = {by_key[k]: to_model(v, types[by_key[k]], f"{path}.{k}") for k, v in data.items()}
    return klass(**kwargs)


@pytest.mark.parametrize("name", CORE)
def test_core_manifest_matches_the_kubernetes_schema(name: str) -> None:
    # strict: unknown fields are errors, not ignored
    assert kubernetes_validate.validate(load(name), KUBERNETES_VERSION, strict=True)


def test_schema_check_catches_a_misspelled_field() -> None:
    doc = load("deployment.yaml")
    doc["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(("name", "kind"), KSERVE.items())
def test_kserve_manifest_round_trips_through_kserve_models(name: str, kind: str) -> None:
    doc = load(name)
    resource = to_model(doc, kind, name)
    assert isinstance(resource, getattr(kserve, kind))
    assert ApiClient().sanitize_for_serialization(resource) == doc


def test_kserve_model_loader_catches_a_misspelled_field() -> None:
    doc = load("kserve-inferenceservice.yaml")
    doc["spec"]["predictor"]["model"]["runtme"] = "nnserve"
    with pytest.raises(AssertionError, match="runtme"):
        to_model(doc, "V1beta1InferenceService", "isvc")


def container(doc: dict[str, Any]) -> dict[str, Any]:
    containers = doc["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]  # type: ignore[no-any-return]


def test_deployment_probes_the_v2_health_routes() -> None:
    main = container(load("deployment.yaml"))
    assert main["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert main["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert main["ports"][0]["containerPort"] == 8000  # the image's NNSERVE_PORT
    assert set(main["resources"]) == {"requests", "limits"}


def test_liveness_and_readiness_ask_the_probe_port() -> None:
    """A flood on the main port must not fail the probes (service/asgi/probes.py)."""
    main = container(load("deployment.yaml"))
    env = {e["name"]: e["value"] for e in main["env"]}
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    assert ports["probes"] == int(env["NNSERVE_PROBE_PORT"]) == 8002
    for probe in ("livenessProbe", "readinessProbe"):
        assert main[probe]["httpGet"]["port"] == "probes"
    runtime = load("kserve-servingruntime.yaml")["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in runtime["env"]}
    for probe in ("livenessProbe", "readinessProbe"):
        assert runtime[probe]["httpGet"]["port"] == int(env["NNSERVE_PROBE_PORT"])


def test_deployment_and_runtime_declare_grpc_with_a_grpc_probe() -> None:
    main = container(load("deployment.yaml"))
    assert {"name": "grpc", "containerPort": 8001, "protocol": "TCP"} in main["ports"]
    assert main["startupProbe"]["grpc"]["port"] == 8001
    env = {e["name"]: e["value"] for e in main["env"]}
    assert env["NNSERVE_GRPC_PORT"] == "8001"
    service_ports = {p["name"]: p["port"] for p in load("service.yaml")["spec"]["ports"]}
    assert service_ports == {"http": 8000, "grpc": 8001}
    runtime = load("kserve-servingruntime.yaml")["spec"]
    assert "grpc-v2" in runtime["protocolVersions"]
    kserve_container = runtime["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in kserve_container["ports"]}
    env = {e["name"]: e["value"] for e in kserve_container["env"]}
    probe = kserve_container["startupProbe"]["grpc"]["port"]
    assert ports["h2c"] == int(env["NNSERVE_GRPC_PORT"]) == probe
    assert ports["http1"] == int(env["NNSERVE_PORT"])


def test_deployment_runs_non_root_on_a_read_only_root() -> None:
    doc = load("deployment.yaml")
    pod = doc["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's USER
    main = container(doc)
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in main["volumeMounts"]


def test_service_and_hpa_target_the_deployment() -> None:
    deployment, service, hpa = (load(name) for name in CORE)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]


def test_inferenceservice_uses_the_v2_runtime() -> None:
    runtime = load("kserve-servingruntime.yaml")
    predictor = load("kserve-inferenceservice.yaml")["spec"]["predictor"]
    assert predictor["model"]["runtime"] == runtime["metadata"]["name"]
    assert predictor["model"]["protocolVersion"] in runtime["spec"]["protocolVersions"]
    formats = runtime["spec"]["supportedModelFormats"]
    assert predictor["model"]["modelFormat"]["name"] in {f["name"] for f in formats}
    env = {e["name"]: e["value"] for e in runtime["spec"]["containers"][0]["env"]}
    assert env["NNSERVE_PORT"] == "8080"  # the port KServe sends traffic to
