// The demo help desk: an inbox, one open conversation and a reply box.
//
// Every string (names, messages, what the user types) goes into the page with
// textContent or as an attribute value, never as HTML. The conversation open
// is in the URL (?c=<email>) so sidebar adapters can follow navigation, and
// body.dataset.openedAt marks when it opened (read by bench/panel.py).
'use strict';

(function () {
  const conversations = JSON.parse(
    document.getElementById('demo-data').textContent,
  );
  const inbox = document.querySelector('[data-testid=inbox]');
  const pane = document.querySelector('.conversation-pane');
  const count = document.querySelector('[data-testid=inbox-count]');

  // el('p', {class: 'x'}, 'text', child): attributes via setAttribute,
  // string children become text nodes.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) {
        node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  function keyOf(conversation) {
    return conversation.email || conversation.phone;
  }

  function find(key) {
    return conversations.find((c) => keyOf(c) === key) || null;
  }

  function initials(name) {
    const words = String(name).replace(/[^\p{L}\p{N} ]/gu, '').split(/\s+/);
    const letters = words.filter(Boolean).map((w) => w[0].toUpperCase());
    return (letters[0] || '?') + (letters.length > 1 ? letters.at(-1) : '');
  }

  // A stable, calm avatar colour per customer.
  function hue(text) {
    let h = 0;
    for (const ch of String(text)) h = (h * 31 + ch.codePointAt(0)) % 360;
    return 'hue-' + (h % 8);
  }

  function ago(iso) {
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60000));
    if (minutes < 1) return 'now';
    if (minutes < 60) return minutes + ' min';
    return Math.floor(minutes / 60) + ' h';
  }

  function clock(iso) {
    const when = new Date(iso);
    return when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function avatar(conversation, size) {
    return el('span', {
      class: 'avatar ' + size + ' ' + hue(keyOf(conversation)),
      'aria-hidden': 'true',
    }, initials(conversation.name));
  }

  function inboxItem(conversation, openKey) {
    const key = keyOf(conversation);
    const last = conversation.messages.filter((m) => m.role === 'customer').at(-1);
    const link = el('a', {
      class: 'conversation-link',
      href: '?c=' + encodeURIComponent(key),
      'data-testid': 'conversation-link',
      'data-customer': key,
      'aria-current': key === openKey ? 'page' : null,
    },
    avatar(conversation, 'small'),
    el('span', { class: 'item' },
      el('span', { class: 'item-top' },
        el('span', { class: 'item-name' }, conversation.name),
        el('time', { class: 'item-time', datetime: conversation.received_at },
          ago(conversation.received_at))),
      el('span', { class: 'item-subject' }, conversation.subject),
      el('span', { class: 'item-preview' }, last ? last.text : '')));
    link.addEventListener('click', (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      open(key, true);
    });
    return el('li', {}, link);
  }

  function renderInbox(openKey) {
    inbox.replaceChildren(...conversations.map((c) => inboxItem(c, openKey)));
    count.textContent = String(conversations.length);
  }

  // The bubble holds the author and time; .message holds only the words, so
  // an adapter reading `.message.customer` gets exactly what the customer wrote.
  function message(conversation, entry) {
    const who = entry.role === 'customer' ? conversation.sender : 'You';
    return el('div', { class: 'bubble from-' + entry.role },
      el('div', { class: 'message-meta' },
        el('span', { class: 'message-author' }, who),
        el('time', { datetime: entry.at || conversation.received_at },
          clock(entry.at || conversation.received_at))),
      el('p', { class: 'message ' + entry.role }, entry.text));
  }

  function contactDetails(conversation) {
    const details = el('dl', { class: 'contact' });
    const add = (label, value, testid) => {
      if (!value) return;
      details.append(el('div', {},
        el('dt', {}, label),
        el('dd', { 'data-testid': testid }, value)));
    };
    add('Email', conversation.email, 'customer-email');
    add('Phone', conversation.phone, 'customer-phone');
    add('Company', conversation.company, 'customer-company');
    return details;
  }

  function replyForm(conversation, thread) {
    const box = el('textarea', {
      id: 'reply-box',
      class: 'reply-box',
      rows: 5,
      'data-testid': 'reply-box',
      placeholder: 'Write your reply…',
    });
    const form = el('form', { class: 'reply', 'data-testid': 'reply-form' },
      el('label', { for: 'reply-box', class: 'reply-label' },
        'Reply to ' + conversation.sender),
      box,
      el('div', { class: 'reply-actions' },
        el('span', { class: 'reply-hint' }, 'Ctrl+Enter to send'),
        el('button', { type: 'submit', 'data-testid': 'send' }, 'Send')));
    const send = (event) => {
      event.preventDefault();
      const text = box.value.trim();
      if (!text) return;
      const entry = { role: 'agent', text, at: new Date().toISOString() };
      conversation.messages.push(entry);
      thread.append(message(conversation, entry));
      box.value = '';
      thread.lastElementChild.scrollIntoView({ block: 'end' });
    };
    form.addEventListener('submit', send);
    box.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) send(event);
    });
    return form;
  }

  function renderConversation(conversation) {
    const key = keyOf(conversation);
    const thread = el('div', { class: 'thread', 'aria-label': 'Messages' },
      ...conversation.messages.map((m) => message(conversation, m)));
    const tier = conversation.tier && conversation.tier !== 'standard' ?
      el('span', { class: 'badge tier' }, conversation.tier) : null;
    return el('article', {
      class: 'conversation',
      'data-testid': 'conversation',
      'data-customer': key,
    },
    el('header', { class: 'conversation-head' },
      avatar(conversation, 'large'),
      el('div', { class: 'who' },
        el('h2', { 'data-testid': 'customer-name' }, conversation.name, tier),
        contactDetails(conversation))),
    el('div', { class: 'subject' },
      el('h3', {}, conversation.subject),
      el('span', { class: 'badge' }, conversation.channel)),
    thread,
    replyForm(conversation, thread));
  }

  function renderEmpty(text) {
    pane.replaceChildren(el('div', { class: 'empty', 'data-testid': 'no-conversation' },
      el('p', { class: 'empty-title' }, text),
      el('p', {}, 'Pick a conversation from the inbox.')));
  }

  function open(key, push) {
    const conversation = find(key);
    if (push) {
      const url = key ? '?c=' + encodeURIComponent(key) : location.pathname;
      history.pushState({ c: key }, '', url);
    }
    renderInbox(conversation ? key : null);
    if (!conversation) {
      renderEmpty(key ? 'That conversation is not in this inbox' : 'No conversation open');
      return;
    }
    pane.replaceChildren(renderConversation(conversation));
    const current = inbox.querySelector('[aria-current=page]');
    if (current) current.scrollIntoView({ block: 'nearest' });
    document.title = conversation.name + ' · Northwind Support';
    document.body.dataset.openedAt = String(Date.now());
  }

  function openFromUrl() {
    open(new URLSearchParams(location.search).get('c'), false);
  }

  // A conversation the user makes up, to try the sidebar on any customer
  // (for example one a CRM webhook just created). Kept in this tab only.
  function simulate(event) {
    event.preventDefault();
    const form = event.target;
    const contact = form.elements.contact.value.trim();
    const text = form.elements.message.value.trim();
    if (!contact || !text) return;
    const isEmail = contact.includes('@');
    const name = form.elements.name.value.trim() || contact;
    const key = isEmail ? contact.toLowerCase() : contact;
    const existing = find(key);
    const entry = { role: 'customer', text, at: new Date().toISOString() };
    if (existing) {
      existing.messages.push(entry);
    } else {
      conversations.unshift({
        email: isEmail ? key : null,
        phone: isEmail ? null : contact,
        name,
        sender: name,
        tier: 'standard',
        subject: text.length > 60 ? text.slice(0, 57) + '…' : text,
        channel: 'chat',
        received_at: entry.at,
        messages: [entry],
      });
    }
    form.reset();
    open(key, true);
  }

  document.querySelector('[data-testid=simulate-form]')
    .addEventListener('submit', simulate);
  window.addEventListener('popstate', openFromUrl);
  openFromUrl();
})();
