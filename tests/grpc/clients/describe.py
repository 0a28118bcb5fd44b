"""Print every message of a generated protobuf module as {message: {field: [number, type]}}.

    python tests/grpc/clients/describe.py tritonclient.grpc.service_pb2

Run in its own process: tritonclient's and KServe's modules cannot be imported together.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any


def fields(message: Any, prefix: str = "") -> dict[str, dict[str, list[int]]]:
    name = f"{prefix}{message.name}"
    found = {name: {f.name: [f.number, f.type] for f in message.fields}}
    for nested in message.nested_types:
        found.update(fields(nested, f"{name}."))
    return found


def describe(module_name: str) -> dict[str, Any]:
    module = importlib.import_module(module_name)
    messages: dict[str, Any] = {}
    for message in module.DESCRIPTOR.message_types_by_name.values():
        messages.update(fields(message))
    service = module.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    methods = {m.name: [m.input_type.name, m.output_type.name] for m in service.methods}
    return {"package": module.DESCRIPTOR.package, "messages": messages, "methods": methods}


if __name__ == "__main__":
    print(json.dumps(describe(sys.argv[1])))
