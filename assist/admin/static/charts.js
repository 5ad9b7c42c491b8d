// Analytics charts as inline SVG, built with DOM APIs only (createElementNS,
// setAttribute, textContent): no chart library, no innerHTML, so phrase texts
// (attacker-controlled) can only ever be text. Data comes from the page's
// <script type="application/json" id="analytics-data"> block; every figure is
// also in a table on the page for screen readers and for copying.
'use strict';

(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const METRICS = [
    { key: 'shown', label: 'Shown', cls: 'm-shown' },
    { key: 'copied', label: 'Copied', cls: 'm-copied' },
    { key: 'inserted', label: 'Inserted', cls: 'm-inserted' },
    { key: 'thumbs_up', label: 'Thumbs up', cls: 'm-up' },
    { key: 'thumbs_down', label: 'Thumbs down', cls: 'm-down' },
  ];
  let uid = 0;

  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  // An <svg role="img"> with a <title> and <desc> screen readers announce.
  function frame(width, height, title, description) {
    const id = `chart-${++uid}`;
    const root = svg('svg', {
      viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart-svg',
      'aria-labelledby': `${id}-title ${id}-desc`, preserveAspectRatio: 'xMinYMin meet',
    });
    root.append(svg('title', { id: `${id}-title` }, title), svg('desc', { id: `${id}-desc` }, description));
    return root;
  }

  // A round axis maximum (1, 2, 5 times a power of ten) at or above `value`.
  function niceMax(value) {
    if (value <= 5) return 5;
    const power = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
    return 10 * power;
  }

  function shortDate(period) {
    const [, month, day] = period.split('-');
    return `${Number(day)} ${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][Number(month) - 1]}`;
  }

  function truncate(text, max) {
    return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
  }

  function seriesChart(box, data) {
    const series = data.series || [];
    const width = 880;
    const height = 280;
    const pad = { left: 48, right: 30, top: 16, bottom: 40 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const top = niceMax(Math.max(0, ...series.flatMap((s) => METRICS.map((m) => s[m.key] || 0))));
    const totals = METRICS.map((m) => `${m.label.toLowerCase()} ${series.reduce((n, s) => n + (s[m.key] || 0), 0)}`);
    const root = frame(width, height, box.dataset.title || 'Feedback over time',
      `${series.length} ${data.bucket === 'week' ? 'weeks' : 'days'}; totals: ${totals.join(', ')}.`);
    const x = (i) => pad.left + (series.length < 2 ? plotW / 2 : (i * plotW) / (series.length - 1));
    const y = (v) => pad.top + plotH - (v / top) * plotH;

    const grid = svg('g', { class: 'grid', 'aria-hidden': 'true' });
    for (let k = 0; k <= 5; k++) {
      const value = (top * k) / 5;
      grid.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(value), y2: y(value) }));
      grid.append(svg('text', { x: pad.left - 8, y: y(value) + 4, 'text-anchor': 'end', class: 'tick' },
        Number.isInteger(value) ? value : value.toFixed(1)));
    }
    const every = Math.max(1, Math.ceil(series.length / 8));
    series.forEach((s, i) => {
      if (i % every === 0 || i === series.length - 1) {
        grid.append(svg('text', { x: x(i), y: height - pad.bottom + 18, 'text-anchor': 'middle', class: 'tick' },
          shortDate(s.period)));
      }
    });
    root.append(grid);

    for (const metric of METRICS) {
      const group = svg('g', { class: `series ${metric.cls}`, 'data-metric': metric.key });
      if (series.length > 1) {
        const points = series.map((s, i) => `${x(i).toFixed(1)},${y(s[metric.key] || 0).toFixed(1)}`).join(' ');
        group.append(svg('polyline', { points, fill: 'none' }));
      }
      series.forEach((s, i) => {
        const dot = svg('circle', { cx: x(i), cy: y(s[metric.key] || 0), r: series.length > 45 ? 2 : 3.5 });
        dot.append(svg('title', {}, `${s.period}: ${s[metric.key] || 0} ${metric.label.toLowerCase()}`));
        group.append(dot);
      });
      root.append(group);
    }
    box.append(root, legend());
  }

  function legend() {
    const list = document.createElement('ul');
    list.className = 'chart-legend';
    for (const metric of METRICS) {
      const item = document.createElement('li');
      const key = svg('svg', { width: 26, height: 10, 'aria-hidden': 'true', class: `series ${metric.cls}` });
      key.append(svg('line', { x1: 1, x2: 25, y1: 5, y2: 5 }));
      item.append(key, document.createTextNode(metric.label));
      list.append(item);
    }
    return list;
  }

  function acceptanceChart(box, data) {
    const phrases = data.phrases || [];
    const width = 880;
    const row = 30;
    const labelW = 380;
    const barW = width - labelW - 120;
    const height = phrases.length * row + 34;
    const root = frame(width, height, box.dataset.title || 'Acceptance per phrase',
      phrases.map((p) => `${truncate(p.text, 60)}: ${Math.round(p.acceptance * 100)}% of ${p.shown} shown`).join('; '));

    const axis = svg('g', { class: 'grid', 'aria-hidden': 'true' });
    for (const share of [0, 0.25, 0.5, 0.75, 1]) {
      const at = labelW + share * barW;
      axis.append(svg('line', { x1: at, x2: at, y1: 4, y2: height - 26 }));
      axis.append(svg('text', { x: at, y: height - 8, 'text-anchor': 'middle', class: 'tick' }, `${share * 100}%`));
    }
    root.append(axis);

    phrases.forEach((p, i) => {
      const top = 6 + i * row;
      // Several positive events per showing can push acceptance past 100%: the bar stops at full width.
      const share = Math.max(0, Math.min(1, p.acceptance || 0));
      const percent = Math.round((p.acceptance || 0) * 100);
      // Links only ever point inside the admin app.
      const link = svg('a', { href: String(p.url).startsWith('/admin/') ? p.url : '#', class: 'bar-link' });
      link.append(svg('title', {}, p.text));
      link.append(svg('text', { x: labelW - 10, y: top + row / 2 + 2, 'text-anchor': 'end', class: 'bar-label' },
        truncate(p.text, 52)));
      root.append(link);
      root.append(svg('rect', { x: labelW, y: top + 4, width: barW, height: row - 12, class: 'bar-track' }));
      const bar = svg('rect', { x: labelW, y: top + 4, width: Math.max(share * barW, 1.5), height: row - 12, class: 'bar' });
      bar.append(svg('title', {}, `${percent}% accepted, shown ${p.shown} times`));
      root.append(bar);
      root.append(svg('text', { x: labelW + barW + 8, y: top + row / 2 + 2, class: 'bar-value' },
        `${percent}% · ${p.shown} shown`));
    });
    box.append(root);
  }

  function draw() {
    const source = document.getElementById('analytics-data');
    if (!source) return;
    let data;
    try {
      data = JSON.parse(source.textContent);
    } catch (error) {
      console.warn('analytics data is not valid JSON', error);
      return;
    }
    const charts = { series: seriesChart, acceptance: acceptanceChart };
    for (const box of document.querySelectorAll('[data-chart]')) {
      const drawChart = charts[box.dataset.chart];
      if (drawChart) drawChart(box, data);
      else console.warn('unknown chart', box.dataset.chart);
    }
  }

  // Editing a date means a custom period (otherwise the preset would silently win).
  function watchDates() {
    const period = document.getElementById('period');
    for (const id of ['since', 'until']) {
      const input = document.getElementById(id);
      if (period && input) input.addEventListener('change', () => { period.value = 'custom'; });
    }
  }

  function start() {
    draw();
    watchDates();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
