// A line chart as a standalone SVG file (no dependencies): points joined in order, each labelled,
// with axes and their ranges. PPO draws the held-out reward against √KL with it, the curve the
// InstructGPT and Qwen reports use to show what alignment cost.

export interface ChartPoint {
  x: number;
  y: number;
  /** Shown beside the point (e.g. the step). */
  label?: string;
}

export interface SvgChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

const MARGIN = { left: 64, right: 24, top: 36, bottom: 48 };

export function lineChartSvg(points: readonly ChartPoint[], o: SvgChartOptions): string {
  const width = o.width ?? 640, height = o.height ?? 420;
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const [x0, x1] = span(finite.map((p) => p.x)), [y0, y1] = span(finite.map((p) => p.y));
  const plotW = width - MARGIN.left - MARGIN.right, plotH = height - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y: number) => MARGIN.top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const path = finite.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
  const dots = finite
    .map((p) => `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3"/>${p.label ? `<text x="${(sx(p.x) + 5).toFixed(1)}" y="${(sy(p.y) - 5).toFixed(1)}" font-size="10">${escape(p.label)}</text>` : ''}`)
    .join('');
  const bottom = MARGIN.top + plotH;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escape(o.title)}</text>`,
    `<path d="M${MARGIN.left},${MARGIN.top} V${bottom} H${MARGIN.left + plotW}" fill="none" stroke="black"/>`,
    `<text x="${MARGIN.left}" y="${bottom + 16}" text-anchor="middle">${tick(x0)}</text>`,
    `<text x="${MARGIN.left + plotW}" y="${bottom + 16}" text-anchor="middle">${tick(x1)}</text>`,
    `<text x="${MARGIN.left - 6}" y="${bottom}" text-anchor="end">${tick(y0)}</text>`,
    `<text x="${MARGIN.left - 6}" y="${MARGIN.top + 4}" text-anchor="end">${tick(y1)}</text>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escape(o.xLabel)}</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(o.yLabel)}</text>`,
    `<g fill="steelblue" stroke="none"><path d="${path}" fill="none" stroke="steelblue" stroke-width="2"/>${dots}</g>`,
    '</svg>',
    '',
  ].join('\n');
}

/** The range of values, widened when it is a single value so the scale stays defined. */
function span(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  const lo = Math.min(...values), hi = Math.max(...values);
  return hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
}

function tick(v: number): string {
  return Number(v.toPrecision(3)).toString();
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
