// Open Inference Protocol V2 infer from the page: rows in, {output name: rows} out. The
// service computes every number; this module only packs and unpacks tensors.

import { postJson } from "./api.js";

// inputs: [{ name, datatype, rows: [[...], ...] }]; returns { name: [[...], ...] }.
export async function infer(model, inputs) {
  const body = {
    inputs: inputs.map(({ name, datatype, rows }) => ({
      name,
      datatype,
      shape: [rows.length, rows[0].length],
      data: rows.flat(),
    })),
  };
  const answer = await postJson(`/v2/models/${encodeURIComponent(model)}/infer`, body);
  const outputs = {};
  for (const output of answer.outputs) outputs[output.name] = rowsOf(output);
  return outputs;
}

function rowsOf(output) {
  const flat = [output.data].flat(Infinity).map((v) => (v === null ? NaN : Number(v)));
  const width = output.shape.length > 1 ? output.shape[1] : 1;
  return Array.from({ length: flat.length / width }, (_, i) => flat.slice(i * width, (i + 1) * width));
}
