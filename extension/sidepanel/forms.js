// The panel's small forms: identify the customer (emails and phones seen in
// the conversation, a search box), paste a message, and copying text.

import { h } from './render.js';

const PHONE_RE = /^\+?[\d\s().-]{6,}$/;

/** Candidate buttons and the search form; `onPick(value)` gets an email or phone. */
export function identifyNodes(candidates, current, onPick) {
  const options = [
    ...(candidates?.emails || []),
    ...(candidates?.phones || []),
  ].filter((v) => v !== current);
  const nodes = [];
  if (options.length) {
    const list = h('ul', {
      className: 'chips',
      'aria-label': 'Seen in this conversation',
    });
    for (const value of options.slice(0, 6)) {
      const button = h(
        'button',
        {
          type: 'button',
          className: 'chip-button',
          dataset: { testid: 'candidate' },
          onclick: () => onPick(value),
        },
        value,
      );
      list.append(h('li', {}, button));
    }
    nodes.push(
      h('p', { className: 'label' }, 'Seen in this conversation:'),
      list,
    );
  }
  nodes.push(searchForm(onPick));
  return nodes;
}

function searchForm(onPick) {
  const input = h('input', {
    type: 'search',
    id: 'customer-search',
    name: 'customer',
    autocomplete: 'off',
    placeholder: 'email or phone',
    'aria-describedby': 'customer-search-error',
    dataset: { testid: 'customer-search' },
  });
  const error = h('p', {
    className: 'error',
    id: 'customer-search-error',
    'aria-live': 'polite',
  });
  const submit = (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value.includes('@') && !PHONE_RE.test(value)) {
      error.textContent = 'Enter an email address or a phone number.';
      input.setAttribute('aria-invalid', 'true');
      return;
    }
    onPick(value);
  };
  return h(
    'form',
    { className: 'search', role: 'search', onsubmit: submit },
    h('label', { for: 'customer-search' }, 'Find customer'),
    h(
      'div',
      { className: 'row' },
      input,
      h('button', { type: 'submit' }, 'Find'),
    ),
    error,
  );
}

/** The paste box; `onMessage(text)` gets what the agent pasted (Ctrl+Enter submits). */
export function pasteForm(onMessage) {
  const box = h('textarea', {
    id: 'paste-box',
    rows: 3,
    maxLength: 5000,
    dataset: { testid: 'paste-box' },
    placeholder: 'Paste what the customer wrote',
  });
  const submit = () => {
    const message = box.value.trim();
    if (!message) return box.focus();
    onMessage(message);
  };
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit();
    }
  });
  const onsubmit = (event) => {
    event.preventDefault();
    submit();
  };
  return h(
    'form',
    { className: 'section paste', 'aria-label': 'Paste a message', onsubmit },
    h('label', { for: 'paste-box' }, 'Paste a message'),
    box,
    h(
      'div',
      { className: 'row' },
      h(
        'button',
        {
          type: 'submit',
          className: 'primary',
          dataset: { testid: 'paste-submit' },
        },
        'Suggest',
      ),
      h('span', { className: 'muted hint' }, 'Ctrl+Enter'),
    ),
  );
}

/** Copy text: the async clipboard API, else a hidden textarea and execCommand. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Not focused, or an iframe without clipboard-write: the old way works there.
  }
  const area = h('textarea', {
    className: 'offscreen',
    readOnly: true,
    'aria-hidden': 'true',
  });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
