// Small SVG charts without a library: a bar chart (also the histogram) and a line chart (lines,
// an area, dashed reference lines such as a capacity, marked days). Each returns an <svg role="img">
// whose aria-label is the caller's summary in words; the numbers themselves belong in
// dataTable(), a <details> with a <table>, so nobody depends on seeing the drawing. Lines differ by
// dash pattern as well as colour. The drawing scales with its container (viewBox); texts are
// formatted by the caller (German or English).

import { h, s } from './dom.js';

const W = 600;
const H = 294;
const M = { top: 34, right: 24, bottom: 44, left: 52 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

/** Colours (≥ 3:1 against white) and dash patterns of the series, in order. */
export const SERIES_STYLES = [
  { colour: '#1b4f8a', dash: null },
  { colour: '#a4370f', dash: '8 4' },
  { colour: '#1e6b35', dash: '2 3' },
  { colour: '#6b2f8a', dash: '10 3 2 3' },
  { colour: '#4a4f57', dash: '4 4' },
];
export function seriesStyle(i) { return SERIES_STYLES[i % SERIES_STYLES.length]; }

/** A round upper end and step for an axis from 0 to at least `max`, with about `count` steps. */
export function niceScale(max, count = 5, integer = true) {
  if (!(max > 0)) return { max: integer ? 4 : 1, step: integer ? 1 : 0.25 };
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((v) => v >= raw);
  if (integer) step = Math.max(1, Math.ceil(step));
  return { max: Math.ceil(max / step - 1e-9) * step, step };
}

/** Which of n category labels to print on the x axis so that they do not overlap. */
function labelEvery(n, room) { return Math.max(1, Math.ceil(n / room)); }

function frame(label, extraClass) {
  return s('svg', { viewBox: `0 0 ${W} ${H}`, class: ['chart', extraClass], role: 'img', 'aria-label': label, focusable: 'false', preserveAspectRatio: 'xMidYMid meet' },
    s('title', {}, label));
}

function yAxis(svg, { max, step }, formatValue, yTitle) {
  const y = (v) => M.top + PLOT_H - (v / max) * PLOT_H;
  const grid = s('g', { class: 'chart-grid' });
  for (let v = 0; v <= max + 1e-9; v += step) {
    grid.append(
      s('line', { x1: M.left, x2: M.left + PLOT_W, y1: y(v), y2: y(v), class: v === 0 ? 'chart-axis' : 'chart-gridline' }),
      s('text', { x: M.left - 8, y: y(v), class: 'chart-tick', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, formatValue(v)));
  }
  svg.append(grid);
  if (yTitle) svg.append(s('text', { x: 4, y: 12, class: 'chart-axis-title' }, yTitle));
  return y;
}

function xLabels(svg, labels, xAt, room) {
  const every = labelEvery(labels.length, room);
  const g = s('g', { class: 'chart-xlabels' });
  labels.forEach((text, i) => {
    // Always the last label (usually today); skip one that would crowd it.
    const last = i === labels.length - 1;
    if (!last && (i % every !== 0 || labels.length - 1 - i < every / 2)) return;
    g.append(s('text', { x: xAt(i), y: M.top + PLOT_H + 18, class: 'chart-tick', 'text-anchor': 'middle' }, text));
  });
  svg.append(g);
}

/**
 * Bars, one per category: bars = [{label, value, title}] (title: the tooltip, e.g. "3 pickups on
 * 30.11.2026"). Values above the bars when they fit. xTitle names the categories under the axis.
 */
export function barChart({ label, bars, formatValue = String, xTitle, yTitle, showValues = true, labelRoom = 10 }) {
  const svg = frame(label, 'chart-bars');
  const scale = niceScale(Math.max(0, ...bars.map((b) => b.value)));
  const y = yAxis(svg, scale, formatValue, yTitle);
  const slot = PLOT_W / Math.max(1, bars.length);
  const barW = Math.max(2, slot * 0.72);
  const xAt = (i) => M.left + slot * i + slot / 2;
  const g = s('g', { class: 'chart-series' });
  bars.forEach((bar, i) => {
    const top = y(bar.value);
    const height = Math.max(0, M.top + PLOT_H - top);
    g.append(s('rect', { x: xAt(i) - barW / 2, y: top, width: barW, height, class: 'chart-bar' }, s('title', {}, bar.title || `${bar.label}: ${formatValue(bar.value)}`)));
    const text = formatValue(bar.value);
    if (showValues && bar.value > 0 && text.length * 7 <= slot + 2) {
      g.append(s('text', { x: xAt(i), y: top - 4, class: 'chart-value', 'text-anchor': 'middle' }, text));
    }
  });
  svg.append(g);
  xLabels(svg, bars.map((b) => b.label), xAt, labelRoom);
  if (xTitle) svg.append(s('text', { x: M.left + PLOT_W / 2, y: H - 4, class: 'chart-axis-title', 'text-anchor': 'middle' }, xTitle));
  return svg;
}

/**
 * Lines over shared x labels: series = [{name, values: [number|null], area}], drawn in the styles
 * of SERIES_STYLES by position. refLines = [{value, label}] (dashed, labelled at the right end);
 * markers = [{index, label}] (a vertical line at that x, e.g. "today" or "full"). yMax raises the
 * axis (so that a capacity line fits).
 */
export function lineChart({ label, xLabels: labels, series, refLines = [], markers = [], yMax = 0, formatValue = String, integer = true, yTitle, xTitle, labelRoom = 8 }) {
  const svg = frame(label, 'chart-lines');
  const highest = Math.max(yMax, ...refLines.map((r) => r.value), ...series.flatMap((ser) => ser.values.filter((v) => v !== null && v !== undefined)));
  const scale = niceScale(highest, 5, integer);
  const y = yAxis(svg, scale, formatValue, yTitle);
  const n = labels.length;
  const xAt = (i) => M.left + (n <= 1 ? PLOT_W / 2 : (PLOT_W * i) / (n - 1));

  for (const marker of markers) {
    const x = xAt(marker.index);
    svg.append(s('g', { class: 'chart-marker' },
      s('line', { x1: x, x2: x, y1: M.top, y2: M.top + PLOT_H }),
      s('text', { x: x + (marker.index > n / 2 ? -4 : 4), y: M.top - 6, 'text-anchor': marker.index > n / 2 ? 'end' : 'start' }, marker.label)));
  }
  series.forEach((ser, si) => {
    const style = seriesStyle(si);
    const points = ser.values.map((v, i) => (v === null || v === undefined ? null : [xAt(i), y(v)]));
    const runs = [];
    let run = [];
    for (const p of points) {
      if (p) run.push(p);
      else if (run.length) { runs.push(run); run = []; }
    }
    if (run.length) runs.push(run);
    const g = s('g', { class: 'chart-series' });
    for (const r of runs) {
      const d = r.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join(' ');
      if (ser.area && r.length > 1) {
        const base = (M.top + PLOT_H).toFixed(1);
        g.append(s('path', { d: `${d} L${r[r.length - 1][0].toFixed(1)},${base} L${r[0][0].toFixed(1)},${base} Z`, class: 'chart-area', fill: style.colour }));
      }
      g.append(s('path', { d, class: 'chart-line', stroke: style.colour, 'stroke-dasharray': style.dash || undefined }));
      // Points only where there are few of them; each carries its value as a tooltip.
      if (r.length <= 31) {
        for (const [px, py] of r) g.append(s('circle', { cx: px.toFixed(1), cy: py.toFixed(1), r: 2.5, fill: style.colour }));
      }
    }
    svg.append(g);
  });
  for (const ref of refLines) {
    const ry = y(ref.value);
    // Above its line, unless that would touch the marker labels over the plot: then below.
    const ty = ry - 5 < M.top + 14 ? ry + 16 : ry - 5;
    svg.append(s('g', { class: 'chart-ref' },
      s('line', { x1: M.left, x2: M.left + PLOT_W, y1: ry, y2: ry }),
      s('text', { x: M.left + PLOT_W, y: ty, 'text-anchor': 'end' }, ref.label)));
  }
  xLabels(svg, labels, xAt, labelRoom);
  if (xTitle) svg.append(s('text', { x: M.left + PLOT_W / 2, y: H - 4, class: 'chart-axis-title', 'text-anchor': 'middle' }, xTitle));
  return svg;
}

/** A legend in HTML for line charts: a sample of each line (dash and colour) and its name. */
export function legend(items) {
  return h('ul', { class: 'chart-legend' }, items.map((item, i) => {
    const style = item.style || seriesStyle(i);
    return h('li', {},
      s('svg', { viewBox: '0 0 32 10', class: 'chart-legend-sample', 'aria-hidden': 'true', focusable: 'false' },
        s('line', { x1: 1, x2: 31, y1: 5, y2: 5, stroke: style.colour, 'stroke-dasharray': style.dash || undefined, class: item.ref ? 'chart-legend-ref' : 'chart-legend-line' })),
      item.name);
  }));
}

/**
 * The chart's numbers as a table inside <details> (closed by default): summary text, caption,
 * columns = [{label, num}], rows = [[cell, …]]. `key` lets a page keep it open across refreshes.
 */
export function dataTable({ summary, caption, columns, rows, key }) {
  return h('details', { class: 'chart-table', dataset: key ? { key } : undefined },
    h('summary', { dataset: key ? { key: `${key}-summary` } : undefined }, summary),
    h('div', { class: 'table-wrap' },
      h('table', {},
        h('caption', {}, caption),
        h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : undefined }, c.label)))),
        h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell, i) => (i === 0
          ? h('th', { scope: 'row' }, cell)
          : h('td', { class: columns[i]?.num ? 'num' : undefined }, cell)))))))));
}
