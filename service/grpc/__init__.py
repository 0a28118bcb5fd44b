"""The Open Inference Protocol over gRPC: the same registry, batcher, limits and errors as REST.

inference.proto   the protocol (package `inference`) + Triton's repository extension
inference_pb2.*   generated from it (scripts/dev/codegen_grpc.py), committed
codec.py          protobuf tensors <-> numpy (raw and typed contents), pure
status.py         domain errors -> gRPC status codes
servicer.py       the RPCs, each a thin call into the dataplane
server.py         grpc.aio server: options, health, start and stop in the app's lifespan
"""
