// Building the panel's pieces from backend data. Every string from the
// backend is CRM or customer data, so attacker-controlled: it only ever
// becomes a text node (createElement + textContent), never HTML.

const MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
];

export const KIND_LABELS = {
  empathy: 'Empathy',
  apology: 'Apology',
  ownership: 'Ownership',
  reassurance: 'Reassurance',
  active_listening: 'Active listening',
  gratitude: 'Thanks',
};

const FACT_LABELS = {
  order_number: 'Order number',
  account_number: 'Account number',
  reference: 'Reference',
  tracking_number: 'Tracking number',
  email: 'Email',
  phone: 'Phone',
  address: 'Address',
  date: 'Date',
  problem: 'Already described the problem',
};

/** h('p', {className: 'x', dataset: {testid: 'y'}}, 'text', child) -> element. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'className') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on'))
      el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(
      child instanceof Node ? child : document.createTextNode(String(child)),
    );
  }
  return el;
}

/** 1 -> "1st", 3 -> "3rd", 12 -> "12th". */
export function ordinal(n) {
  const v = Number(n) || 0;
  const teen = v % 100 >= 11 && v % 100 <= 13;
  const suffix = teen ? 'th' : { 1: 'st', 2: 'nd', 3: 'rd' }[v % 10] || 'th';
  return `${v}${suffix}`;
}

/** "2026-11-02" or an ISO datetime -> "2 Nov" (or "" when unreadable). */
export function shortDate(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value || ''));
  if (!match) return '';
  return `${Number(match[3])} ${MONTHS[Number(match[2]) - 1] || ''}`.trim();
}

/** "repeat_contact" -> "Repeat contact". */
export function words(label) {
  const text = String(label || '').replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "3rd contact about 'No connection every evening' since 2 Nov". */
export function repeatText(repeat) {
  const subject = repeat.related_ticket?.subject || 'the same problem';
  const since = shortDate(repeat.since);
  return `${ordinal(repeat.count)} contact about '${subject}'${since ? ` since ${since}` : ''}`;
}

/** A link only for http(s) URLs; anything else (javascript:, data:) stays text. */
export function safeLink(url, text) {
  try {
    const parsed = new URL(String(url));
    if (parsed.protocol === 'https:' || parsed.protocol === 'http:') {
      return h(
        'a',
        { href: parsed.href, target: '_blank', rel: 'noopener noreferrer' },
        text,
      );
    }
  } catch {
    // not a URL
  }
  return h('span', {}, text);
}

/** The customer card section's content (card may be null). */
export function renderCard(card, ref) {
  const nodes = [];
  if (!card || card.status === 'not_found') {
    const who = ref ? Object.values(ref)[0] : null;
    nodes.push(
      h(
        'h2',
        { className: 'customer-name', id: 'customer-heading' },
        'No customer',
      ),
    );
    nodes.push(
      h(
        'p',
        { className: 'muted' },
        who ? `No customer found for ${who}.` : 'No customer identified yet.',
      ),
    );
    return nodes;
  }
  const customer = card.customer || {};
  if (card.status === 'pending' && !card.customer) {
    return [
      h(
        'h2',
        { className: 'customer-name', id: 'customer-heading' },
        'Customer',
      ),
      h('p', { className: 'muted' }, 'Still fetching from the CRM…'),
    ];
  }
  const name =
    customer.name || customer.email || customer.phone || 'Unnamed customer';
  const heading = h('h2', {
    className: 'customer-name',
    id: 'customer-heading',
  });
  heading.append(h('span', { dataset: { testid: 'customer-name' } }, name));
  if (card.stale) {
    heading.append(
      ' ',
      h('span', {
        className: 'badge badge-stale',
        dataset: { testid: 'stale-badge' },
        title:
          'The CRM data is older than the cache allows; a refresh is running.',
        text: 'CRM data may be out of date',
      }),
    );
  }
  nodes.push(heading);
  const meta = [
    customer.company,
    customer.tier && `${customer.tier} tier`,
    customer.email,
    customer.phone,
  ];
  const line = meta.filter(Boolean).join(' · ');
  if (line) nodes.push(h('p', { className: 'muted meta' }, line));
  if (card.status === 'pending') {
    nodes.push(h('p', { className: 'muted' }, 'Still fetching from the CRM…'));
  }
  if (card.repeat_contact) {
    nodes.push(
      h(
        'p',
        { className: 'banner', dataset: { testid: 'repeat-banner' } },
        repeatText(card.repeat_contact),
      ),
    );
  }
  nodes.push(...followUps(card.follow_ups_due || []));
  nodes.push(...alreadyTold(card.already_told_us || []));
  nodes.push(...openTickets(card.open_tickets || []));
  nodes.push(...recentContacts(card.recent_interactions || []));
  for (const error of card.errors || []) {
    nodes.push(
      h(
        'p',
        { className: 'warning' },
        `${words(error.source)}: ${error.message || error.code}`,
      ),
    );
  }
  return nodes;
}

function followUps(items) {
  if (!items.length) return [];
  const list = h('ul', {
    className: 'plain',
    dataset: { testid: 'follow-ups' },
  });
  for (const item of items) {
    const when = shortDate(item.due_at);
    const label = item.overdue
      ? `Overdue${when ? ` since ${when}` : ''}`
      : `Due${when ? ` ${when}` : ''}`;
    list.append(
      h(
        'li',
        { className: item.overdue ? 'overdue' : '' },
        h('strong', {}, `${label}: `),
        item.text || '',
      ),
    );
  }
  return [h('h3', {}, 'Follow-ups due'), list];
}

function alreadyTold(facts) {
  if (!facts.length) return [];
  const list = h('dl', {
    className: 'facts',
    dataset: { testid: 'already-told' },
  });
  for (const fact of facts.slice(0, 8)) {
    list.append(
      h('dt', {}, FACT_LABELS[fact.kind] || words(fact.kind)),
      h('dd', {}, fact.value || ''),
    );
  }
  return [h('h3', {}, 'Already told us'), list];
}

function openTickets(tickets) {
  if (!tickets.length)
    return [h('p', { className: 'muted' }, 'No open tickets.')];
  const list = h('ul', { className: 'plain tickets' });
  for (const ticket of tickets.slice(0, 5)) {
    const label = ticket.subject || `Ticket ${ticket.id}`;
    const details = [
      ticket.status,
      ticket.priority && `${ticket.priority} priority`,
      shortDate(ticket.created_at),
    ];
    list.append(
      h(
        'li',
        {},
        ticket.url ? safeLink(ticket.url, label) : h('span', {}, label),
        h(
          'span',
          { className: 'muted' },
          ` · ${details.filter(Boolean).join(' · ')}`,
        ),
      ),
    );
  }
  return [h('h3', {}, `Open tickets (${tickets.length})`), list];
}

function recentContacts(items) {
  if (!items.length) return [];
  const list = h('ul', { className: 'plain' });
  for (const item of items.slice(0, 5)) {
    const when = shortDate(item.at);
    list.append(
      h(
        'li',
        {},
        h('strong', {}, `${when} ${item.channel || ''}: `.trimStart()),
        item.summary || '',
      ),
    );
  }
  return [
    h(
      'details',
      {},
      h('summary', {}, `Recent contacts (${items.length})`),
      list,
    ),
  ];
}

/** Emotion and situations. */
export function renderUnderstanding(result) {
  const emotion = result.emotion || {};
  const percent = Math.round((emotion.confidence || 0) * 100);
  const nodes = [
    h(
      'p',
      { className: 'emotion' },
      h('span', { className: 'label' }, 'Feeling '),
      h(
        'strong',
        { dataset: { testid: 'emotion', emotion: emotion.label || '' } },
        words(emotion.label),
      ),
      h('span', { className: 'muted' }, ` ${percent}%`),
    ),
  ];
  const situations = result.situations || [];
  if (situations.length) {
    const list = h('ul', {
      className: 'chips',
      'aria-label': 'Situations',
      dataset: { testid: 'situations' },
    });
    for (const s of situations)
      list.append(h('li', { className: 'chip' }, words(s.label)));
    nodes.push(list);
  }
  return nodes;
}

/** Suggestions grouped by kind; returns {nodes, ordered} in display order. */
export function renderSuggestions(result, actions) {
  const nodes = [];
  const ordered = [];
  for (const [kind, items] of Object.entries(result.suggestions || {})) {
    if (!items?.length) continue;
    const list = h('ol', { className: 'suggestions' });
    for (const item of items) {
      ordered.push(item);
      list.append(suggestionItem(item, ordered.length, actions));
    }
    nodes.push(
      h(
        'section',
        { className: 'kind' },
        h('h3', {}, KIND_LABELS[kind] || words(kind)),
        list,
      ),
    );
  }
  return { nodes, ordered };
}

// A drawn thumb: emoji fonts are missing on many agents' Linux desktops.
function thumb(down) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  if (down) svg.setAttribute('transform', 'rotate(180)');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute(
    'd',
    'M2 10h4v11H2z M8 10l4-8c1.7 0 3 1.3 3 3v3h5c1.1 0 2 .9 2 2l-2 9c-.2.6-.8 1-1.5 1H8z',
  );
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return svg;
}

function suggestionItem(item, rank, actions) {
  const shortcut = rank <= 3 ? `Alt+${rank}` : null;
  const textId = `suggestion-text-${rank}`;
  const button = (action, label, ariaLabel, extra = {}) =>
    h(
      'button',
      {
        type: 'button',
        className: `action action-${action}`,
        dataset: { action },
        'aria-label': ariaLabel,
        'aria-describedby': textId,
        onclick: (event) => actions[action](item, event.currentTarget),
        ...extra,
      },
      label,
    );
  return h(
    'li',
    {
      className: 'suggestion',
      dataset: { testid: 'suggestion', phraseId: item.id, kind: item.kind },
    },
    h('p', { className: 'suggestion-text', id: textId }, item.text),
    h(
      'div',
      { className: 'actions' },
      button('insert', 'Insert', shortcut ? `Insert (${shortcut})` : 'Insert', {
        'aria-keyshortcuts': shortcut || undefined,
        className: 'action action-insert primary',
      }),
      button('copy', 'Copy', 'Copy'),
      button('thumbs-up', thumb(false), 'Helpful', { 'aria-pressed': 'false' }),
      button('thumbs-down', thumb(true), 'Not helpful', {
        'aria-pressed': 'false',
      }),
      shortcut
        ? h('kbd', { className: 'shortcut', 'aria-hidden': 'true' }, shortcut)
        : null,
    ),
    item.why
      ? h(
          'details',
          { className: 'why' },
          h('summary', {}, 'Why this'),
          h('p', {}, item.why),
        )
      : null,
  );
}
