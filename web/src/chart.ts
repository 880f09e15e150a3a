// A small line chart in SVG: one or two series over time, for a center's
// history (utilisation and queue). No library: a polyline per series, the
// axis ends labelled, each point's value in a <title> for the pointer.

const NS = 'http://www.w3.org/2000/svg';

export interface Series {
  name: string;
  cls: string; // CSS class of its line
  values: number[]; // one per time
  max: number; // top of its scale (> 0)
  fmt: (v: number) => string;
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

// times: Unix ms, oldest first, one per value of each series.
export function lineChart(times: number[], series: Series[], testid: string, label: string): SVGSVGElement {
  const w = 300, h = 64, pad = 2;
  const svg = el('svg', { viewBox: `0 0 ${w} ${h}`, class: 'chart', role: 'img', 'aria-label': label, 'data-testid': testid });
  svg.setAttribute('data-points', String(times.length));
  const t0 = times[0] ?? 0, t1 = times[times.length - 1] ?? 1;
  const x = (t: number) => pad + ((w - 2 * pad) * (t - t0)) / Math.max(1, t1 - t0);
  for (const s of series) {
    const y = (v: number) => h - pad - ((h - 2 * pad) * Math.min(v, s.max)) / s.max;
    const pts = times.map((t, i) => `${x(t).toFixed(1)},${y(s.values[i] ?? 0).toFixed(1)}`).join(' ');
    const line = el('polyline', { points: pts, class: `chart-line ${s.cls}`, fill: 'none' });
    line.setAttribute('data-series', s.name);
    line.setAttribute('data-last', s.fmt(s.values[s.values.length - 1] ?? 0));
    const title = el('title', {});
    title.textContent = `${s.name}: now ${s.fmt(s.values[s.values.length - 1] ?? 0)}, highest ${s.fmt(Math.max(0, ...s.values))}`;
    line.append(title);
    svg.append(line);
  }
  return svg;
}
