"""The MLServer contender's model: an onnxruntime `mlserver.MLModel`, the way MLServer's
custom-runtime docs write one. It runs inside MLServer's own virtual environment (see
benchmarks/mlserver/env.py), never in nnserve's, so it imports only what that one holds.

Thread settings come from the model settings' `parameters.extra`, the same for every
contender."""

from __future__ import annotations

import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class OnnxModel(MLModel):  # type: ignore[misc]
    async def load(self) -> bool:
        extra = self.settings.parameters.extra or {}
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(extra.get("intra_op", 1))
        options.inter_op_num_threads = int(extra.get("inter_op", 1))
        self.session = ort.InferenceSession(
            self.settings.parameters.uri, options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        x = NumpyCodec.decode_input(payload.inputs[0])
        (probabilities,) = self.session.run(["probabilities"], {self.input_name: x})
        output = NumpyCodec.encode_output("probabilities", probabilities)
        return InferenceResponse(id=payload.id, model_name=self.name, outputs=[output])
