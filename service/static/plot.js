// A small 2-D plotting frame on a canvas: axes with ticks, points, lines, paths and a banded
// contour fill. It only draws numbers it is given; nothing here computes a model.

const MARGIN = { left: 66, right: 16, top: 14, bottom: 42 };
const FONT = '12px system-ui, "DejaVu Sans", sans-serif';

export class Frame {
  constructor(canvas, xRange, yRange) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.x0 = xRange[0];
    this.x1 = xRange[1];
    this.y0 = yRange[0];
    this.y1 = yRange[1];
    this.left = MARGIN.left;
    this.top = MARGIN.top;
    this.width = canvas.width - MARGIN.left - MARGIN.right;
    this.height = canvas.height - MARGIN.top - MARGIN.bottom;
  }

  px(x) {
    return this.left + ((x - this.x0) / (this.x1 - this.x0)) * this.width;
  }

  py(y) {
    return this.top + (1 - (y - this.y0) / (this.y1 - this.y0)) * this.height;
  }

  // The data coordinates of a pixel inside the plot area (the inverse of px/py).
  dataAt(col, row) {
    return [
      this.x0 + ((col + 0.5) / this.width) * (this.x1 - this.x0),
      this.y1 - ((row + 0.5) / this.height) * (this.y1 - this.y0),
    ];
  }

  clear() {
    this.ctx.fillStyle = "#fff";
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  clipped(draw) {
    const ctx = this.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(this.left, this.top, this.width, this.height);
    ctx.clip();
    draw(ctx);
    ctx.restore();
  }

  // format: tick label functions {x, y}; yTicks: tick positions to use instead of even ones.
  axes(xLabel, yLabel, format = { x: String, y: String }) {
    const ctx = this.ctx;
    ctx.strokeStyle = "#9aa3b2";
    ctx.lineWidth = 1;
    ctx.strokeRect(this.left, this.top, this.width, this.height);
    ctx.font = FONT;
    ctx.fillStyle = "#4a5263";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of niceTicks(this.x0, this.x1, 6)) {
      ctx.fillText(format.x(t), this.px(t), this.top + this.height + 5);
      tick(ctx, this.px(t), this.top + this.height, 0, 4);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of format.yTicks ?? niceTicks(this.y0, this.y1, 5)) {
      ctx.fillText(format.y(t), this.left - 6, this.py(t));
      tick(ctx, this.left, this.py(t), -4, 0);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(xLabel, this.left + this.width / 2, this.canvas.height - 2);
    ctx.save();
    ctx.translate(12, this.top + this.height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(yLabel, 0, 0);
    ctx.restore();
  }

  points(xy, style) {
    this.clipped((ctx) => {
      ctx.fillStyle = style.fill;
      ctx.strokeStyle = style.stroke ?? "#fff";
      ctx.lineWidth = 1.5;
      for (const [x, y] of xy) {
        ctx.beginPath();
        ctx.arc(this.px(x), this.py(y), style.radius ?? 5, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    });
  }

  polyline(xy, style) {
    const finite = xy.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (finite.length === 0) return;
    this.clipped((ctx) => {
      ctx.strokeStyle = style.stroke;
      ctx.lineWidth = style.width ?? 2;
      ctx.setLineDash(style.dash ?? []);
      ctx.beginPath();
      finite.forEach(([x, y], i) => {
        if (i === 0) ctx.moveTo(this.px(x), this.py(y));
        else ctx.lineTo(this.px(x), this.py(y));
      });
      ctx.stroke();
    });
  }

  // The line a*x + b*y + c = 0 across the visible range (a decision boundary or y = m x + c).
  implicitLine(a, b, c, style) {
    if (![a, b, c].every(Number.isFinite) || (a === 0 && b === 0)) return;
    const ends =
      Math.abs(b) >= Math.abs(a)
        ? [this.x0, this.x1].map((x) => [x, -(a * x + c) / b])
        : [this.y0, this.y1].map((y) => [-(b * y + c) / a, y]);
    this.polyline(ends, style);
  }

  // Fills the plot area with bands of value(x, y) (in [0, 1]) and darkens band edges, so the
  // bands read as contour lines; colours: one [r, g, b] per level instead of the blue ramp.
  bands(value, levels = 14, colours = null) {
    const image = this.ctx.createImageData(this.width, this.height);
    const band = new Int16Array(this.width * this.height);
    for (let row = 0; row < this.height; row++) {
      for (let col = 0; col < this.width; col++) {
        const v = value(...this.dataAt(col, row));
        band[row * this.width + col] = Math.min(levels - 1, Math.floor(v * levels));
      }
    }
    band.forEach((level, i) => {
      const edge = (i % this.width > 0 && band[i - 1] !== level) ||
        (i >= this.width && band[i - this.width] !== level);
      const fill = colours ? colours[level] : palette(level / (levels - 1));
      const [r, g, b] = edge ? [120, 130, 150] : fill;
      image.data.set([r, g, b, 255], 4 * i);
    });
    this.ctx.putImageData(image, this.left, this.top);
  }
}

function tick(ctx, x, y, dx, dy) {
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x + dx, y + dy);
  ctx.stroke();
}

export function niceTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return [lo];
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9 && ticks.length < 50; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return ticks;
}

// Light (low) to deep blue (high): low values, the valley floor, stay pale.
const STOPS = [
  [247, 251, 255],
  [198, 219, 239],
  [107, 174, 214],
  [33, 113, 181],
  [8, 48, 107],
];

function palette(t) {
  const pos = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(pos));
  const f = pos - i;
  return STOPS[i].map((c, k) => Math.round(c + f * (STOPS[i + 1][k] - c)));
}

export function formatNumber(v, digits = 4) {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}
