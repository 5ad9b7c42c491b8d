// Live preview on the phrase form: as the admin types, ask /admin/api/preview
// for the rendered text, the lint and the ranks on sample messages.
// Everything is written with textContent (via Admin.el): phrase text is untrusted.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('phrase-form');
  if (!form) return;
  const { api, el, clear, debounce } = window.Admin;
  const $ = (selector) => document.querySelector(selector);
  const customer = $('#preview-customer');
  const rendered = $('[data-testid=preview-text]');
  const note = $('[data-testid=preview-note]');
  const lint = $('[data-testid=lint]');
  const rankings = $('[data-testid=rankings] tbody');
  const count = $('#char-count');
  let inFlight = null;

  function checked(name) {
    return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);
  }

  function draft() {
    return {
      id: form.dataset.phraseId || null,
      text: form.elements.text.value,
      kind: form.elements.kind.value,
      emotions: checked('emotions'),
      situations: checked('situations'),
      channels: checked('channels'),
      language: form.elements.language.value,
      use_when: form.elements.use_when.value,
      fallback: form.elements.fallback.value,
      customer: customer.value,
    };
  }

  function showRendered(result) {
    const r = result.rendered;
    rendered.textContent = r && r.text ? r.text : '(not shown: its slots cannot be filled and it has no fallback)';
    const bits = [];
    if (r && r.customer) bits.push(`With ${r.customer}'s CRM facts.`);
    if (r && r.missing.length) bits.push(`Missing for this customer: ${r.missing.join(', ')}.`);
    if (r && r.used_fallback) bits.push('Shows the fallback.');
    note.textContent = bits.join(' ');
  }

  function showLint(problems) {
    clear(lint);
    if (!problems.length) {
      lint.append(el('li', { class: 'ok', text: 'No problems found.' }));
      return;
    }
    for (const p of problems) {
      const label = `${p.severity === 'block' ? 'Blocks' : 'Warning'}: ${p.code.replace(/_/g, ' ')}`;
      const item = el('li', { class: p.severity, dataset: { code: p.code } }, el('span', { class: 'code', text: label }), p.message);
      if (p.phrase_id) {
        item.append(' ', el('a', { href: `/admin/phrases/${encodeURIComponent(p.phrase_id)}`, text: p.phrase_id, dataset: { testid: 'duplicate-link' } }), `: “${p.match}”`);
      } else if (p.match) {
        item.append(' ', el('span', { class: 'muted', text: `(found “${p.match}”)` }));
      }
      lint.append(item);
    }
  }

  function showRankings(rows, kind) {
    clear(rankings);
    if (!kind) {
      rankings.append(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: 'Choose a kind to see where it would rank.' })));
      return;
    }
    for (const row of rows) {
      const rank = row.excluded ? 'never' : `#${row.rank}`;
      rankings.append(el('tr', { dataset: { testid: 'ranking', shown: row.shown ? 'yes' : 'no' } },
        el('td', { class: 'rank' }, rank, row.shown ? el('div', { class: 'hint', text: 'shown' }) : null),
        el('td', { class: 'num', text: row.excluded ? '' : row.score.toFixed(3) }),
        el('td', {},
          el('div', { text: row.message }),
          el('div', { class: 'hint', text: `${row.customer || row.email} · ${row.emotion}${row.situations.length ? ' · ' + row.situations.join(', ').replace(/_/g, ' ') : ''}${row.excluded ? ' · excluded: ' + row.excluded : ''}` }))));
    }
  }

  async function refresh() {
    count.textContent = String(form.elements.text.value.trim().length);
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    const body = draft();
    form.dataset.previewState = 'loading';
    try {
      const result = await api(form.dataset.previewUrl, { body, signal: inFlight.signal });
      showRendered(result);
      showLint(result.lint);
      showRankings(result.rankings, body.kind);
      form.dataset.previewState = 'ready';
    } catch (error) {
      if (error.name === 'AbortError') return;
      note.textContent = `Preview unavailable: ${error.message}`;
      form.dataset.previewState = 'error';
    }
  }

  const later = debounce(refresh, 350);
  form.addEventListener('input', later);
  form.addEventListener('change', later);
  customer.addEventListener('change', refresh);
  if (form.elements.text.value.trim()) refresh();
});
