"""Contender: the KServe Python model server, with an onnxruntime `kserve.Model` written the
way KServe's custom-model docs write one (load() builds the session, predict() takes an
InferRequest and returns an InferResponse). gRPC serves on --grpc-port when given (KServe's
own gRPC server, in the main process whatever --workers says), else it is off. KServe 0.21
answers 500 when a response's id is None, so the response carries the request's id (the
benchmark sends one).

    python -m benchmarks.kserve_server --model models/mnist-mlp/1/model.onnx --port 8102
"""

from __future__ import annotations

import argparse
import sys

import kserve
import onnxruntime as ort
from kserve import InferOutput, InferRequest, InferResponse

from benchmarks.naive_server import session_options

NAME = "mnist-mlp"


class OnnxModel(kserve.Model):  # type: ignore[misc]
    def __init__(self, name: str, model: str, intra_op: int, inter_op: int) -> None:
        super().__init__(name)
        self.model, self.threads = model, (intra_op, inter_op)
        self.session: ort.InferenceSession | None = None
        self.load()

    def load(self) -> bool:
        self.session = ort.InferenceSession(
            self.model, session_options(*self.threads), providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        self.ready = True
        return True

    def __getstate__(self) -> dict[str, object]:
        """Workers > 1 are spawned processes that get the model pickled: each builds its own
        session (an onnxruntime session cannot be pickled)."""
        return {k: v for k, v in self.__dict__.items() if k != "session"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.load()

    async def predict(
        self,
        payload: InferRequest,
        headers: dict[str, str] | None = None,
        response_headers: dict[str, str] | None = None,
    ) -> InferResponse:
        assert self.session is not None
        x = payload.inputs[0].as_numpy()
        (probabilities,) = self.session.run(["probabilities"], {self.input_name: x})
        out = InferOutput(name="probabilities", shape=list(probabilities.shape), datatype="FP32")
        out.set_data_from_numpy(probabilities, binary_data=False)
        return InferResponse(response_id=payload.id, model_name=self.name, infer_outputs=[out])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="path to model.onnx")
    parser.add_argument("--port", type=int, default=8102, help="loopback port (default 8102)")
    parser.add_argument("--grpc-port", type=int, default=0, help="gRPC port (0: off, default)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--intra-op", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--inter-op", type=int, default=1, help="onnxruntime inter-op threads")
    args = parser.parse_args(argv)
    sys.argv = sys.argv[:1]  # kserve parses sys.argv itself at import and start
    model = OnnxModel(NAME, args.model, args.intra_op, args.inter_op)
    server = kserve.ModelServer(
        http_port=args.port, workers=args.workers, enable_grpc=args.grpc_port > 0,
        grpc_port=args.grpc_port or 8081,
    )  # fmt: skip
    server.start([model])


if __name__ == "__main__":
    main()
