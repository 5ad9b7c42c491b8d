// The assist panel, shared by the Chrome side panel (sidepanel/index.js) and
// the /sidebar web page (assist/static/sidebar/sidebar.js). It knows nothing
// about where it runs: the host object gives it settings, page context and
// a way to insert text.
//
//   host = {
//     settings(): Promise<{backendUrl, token}>
//     onSettingsChanged(callback)
//     openSettings()            the options page, or the token form
//     settingsLabel             text of the button that calls openSettings
//     insert(text): Promise<{inserted: bool, reason?: string}>
//     context(): Promise<context | null>, onContext(callback)
//   }
//   context = {source, site, url, message, conversation: [{role, text}],
//              customer: {email} | {phone} | null,
//              candidates: {emails, phones}, channel, replyBox, agentName}
//
// States ([data-testid=state] data-state): not-configured, loading,
// unreachable, no-customer, ready, stale. Never blank.

import { ApiClient, CardStream } from './api.js';
import { copyText, identifyNodes, pasteForm } from './forms.js';
import {
  h,
  renderCard,
  renderSuggestions,
  renderUnderstanding,
} from './render.js';

const LIMIT_PER_KIND = 2;
const BACKOFF_S = [1, 2, 4, 8, 10]; // then every 10 s: agents wait on this
const CHANNELS = ['chat', 'email', 'phone'];
const REASONS = {
  'no-reply-box': 'No reply box found on this page',
  'no-page': 'This tab is not a help desk assist follows',
  embedded: 'The help desk does not let apps type into its reply box',
};

/** Create the panel inside `root` and start it. */
export function createPanel(root, host) {
  const panel = new Panel(root, host);
  panel.start();
  return panel;
}

export class Panel {
  constructor(root, host) {
    this.root = root;
    this.host = host;
    this.client = null;
    this.context = null;
    this.override = null; // a customer the agent picked or searched for
    this.result = null;
    this.card = null;
    this.ordered = [];
    this.seq = 0;
    this.inflight = null;
    this.stream = null;
    this.lastEventIds = new Map();
    this.retry = { attempt: 0, timer: null, tick: null };
    this.build();
  }

  async start() {
    this.host.onSettingsChanged?.(() => this.reload());
    this.host.onContext?.((context) => this.setContext(context));
    document.addEventListener('keydown', (event) => this.onKey(event));
    // Back online, or the agent looks at the panel again: retry now.
    const retryNow = () => this.retry.timer && this.run();
    window.addEventListener('online', retryNow);
    document.addEventListener(
      'visibilitychange',
      () => document.visibilityState === 'visible' && retryNow(),
    );
    await this.reload();
  }

  /** Re-read settings (after the options page saved) and start over. */
  async reload() {
    const settings = (await this.host.settings().catch(() => null)) || {};
    this.stopStream(); // it holds the old URL and token
    this.client =
      settings.backendUrl && settings.token
        ? new ApiClient(settings.backendUrl, settings.token)
        : null;
    this.context =
      (await this.host.context?.().catch(() => null)) || this.context;
    this.run();
  }

  /** New page context (the open conversation, a selection, a Chatwoot appContext). */
  setContext(context) {
    const old = this.context;
    const key = (c) => JSON.stringify([c?.message, c?.customer, c?.url]);
    if (old && context && key(old) === key(context)) return;
    if (
      !old ||
      !context ||
      old.url !== context.url ||
      key(old.customer) !== key(context.customer)
    ) {
      this.override = null;
    }
    this.context = context || null;
    this.run();
  }

  // ---- the flow -------------------------------------------------------

  run() {
    this.cancelRetry();
    if (!this.client) return this.notConfigured();
    const message = this.context?.message?.trim();
    if (message) return this.suggest(message);
    if (this.customerRef()) return this.lookup();
    return this.idle();
  }

  customerRef() {
    return this.override || this.context?.customer || null;
  }

  begin(text, key) {
    // Another conversation: never leave the last customer's card and
    // suggestions on screen while this one loads (or fails to).
    if (key !== this.paintedKey) {
      this.stopStream();
      this.clearContent();
      this.paintedKey = key;
    }
    this.inflight?.abort();
    this.inflight = new AbortController();
    this.setState('loading', text);
    this.root.setAttribute('aria-busy', 'true');
    return { seq: ++this.seq, signal: this.inflight.signal };
  }

  async suggest(message) {
    const ref = this.customerRef();
    const { seq, signal } = this.begin(
      'Reading the message…',
      JSON.stringify(['suggest', message, ref]),
    );
    const body = { message: message.slice(0, 5000), limit: LIMIT_PER_KIND };
    if (ref) body.customer = ref;
    const earlier = (this.context?.conversation || []).slice(-20);
    if (earlier.length) body.conversation = earlier;
    if (CHANNELS.includes(this.context?.channel))
      body.channel = this.context.channel;
    if (this.context?.agentName)
      body.agent_name = String(this.context.agentName).slice(0, 80);
    let result;
    try {
      result = await this.client.post('/api/v1/suggest', body, { signal });
    } catch (error) {
      return seq === this.seq && this.failed(error);
    }
    if (seq !== this.seq) return;
    this.result = result;
    this.card = result.customer;
    this.paint(ref);
    this.client.feedback(this.ordered.map((s) => this.event(s, 'shown')));
    this.follow(ref);
  }

  async lookup() {
    const ref = this.customerRef();
    const { seq, signal } = this.begin(
      'Looking up the customer…',
      JSON.stringify(['lookup', ref]),
    );
    const [key, value] = Object.entries(ref)[0];
    let card;
    try {
      card = await this.client.get(
        `/api/v1/customers/context?${key}=${encodeURIComponent(value)}`,
        { signal },
      );
    } catch (error) {
      return seq === this.seq && this.failed(error);
    }
    if (seq !== this.seq) return;
    this.result = null;
    this.card = card;
    this.paint(ref);
    this.follow(ref);
  }

  // Configured but nothing to work on: check the connection so a wrong
  // URL or token shows now, not when the first customer writes in.
  async idle() {
    const { seq, signal } = this.begin('Connecting…', null);
    this.stopStream();
    let me;
    try {
      me = await this.client.get('/api/v1/me', { signal });
    } catch (error) {
      return seq === this.seq && this.failed(error);
    }
    if (seq !== this.seq) return;
    this.result = null;
    this.card = null;
    this.clearContent();
    this.retry.attempt = 0;
    this.root.removeAttribute('aria-busy');
    this.setState(
      'no-customer',
      `Connected as ${me.name || 'agent'}. Open a conversation, select a message and choose ` +
        '“Suggest for selection”, or paste a message below.',
      { idle: true },
    );
    this.renderIdentify();
  }

  failed(error) {
    this.root.removeAttribute('aria-busy');
    if (error.kind === 'aborted') return;
    if (error.kind === 'http' && error.status === 401) {
      return this.notConfigured(
        'The backend refused the token (401): check it in the options.',
      );
    }
    if (error.kind === 'http' && error.status === 403) {
      return this.notConfigured(
        'This token may not use the sidebar (403): ask an admin for an agent token.',
      );
    }
    if (error.kind === 'http' && error.status < 500) {
      this.setState(
        'no-customer',
        `The backend could not use this: ${error.message}`,
      );
      return;
    }
    this.unreachable(error);
  }

  notConfigured(reason) {
    this.stopStream();
    this.clearContent();
    this.setState(
      'not-configured',
      reason || 'Not set up yet: add the backend URL and your agent token.',
    );
    this.showActions([
      h(
        'button',
        {
          type: 'button',
          className: 'primary',
          dataset: { testid: 'open-settings' },
          onclick: () => this.host.openSettings(),
        },
        this.host.settingsLabel || 'Open options',
      ),
    ]);
  }

  unreachable(error) {
    this.cancelRetry();
    this.stopStream();
    const why =
      error?.kind === 'timeout'
        ? 'it did not answer in time'
        : 'it could not be reached';
    const delay = BACKOFF_S[Math.min(this.retry.attempt, BACKOFF_S.length - 1)];
    this.retry.attempt += 1;
    this.setState(
      'unreachable',
      `The assist backend is unavailable: ${why}. Retrying automatically.`,
    );
    const countdown = h('span', { className: 'muted countdown' });
    this.showActions([
      h(
        'button',
        {
          type: 'button',
          className: 'primary',
          dataset: { testid: 'retry' },
          onclick: () => this.run(),
        },
        'Retry now',
      ),
      countdown,
    ]);
    let left = delay;
    const tick = () => {
      countdown.textContent = ` Next try in ${left} s`;
      left -= 1;
    };
    tick();
    this.retry.tick = setInterval(tick, 1000);
    this.retry.timer = setTimeout(() => this.run(), delay * 1000);
  }

  cancelRetry() {
    clearTimeout(this.retry.timer);
    clearInterval(this.retry.tick);
    this.retry.timer = this.retry.tick = null;
  }

  // ---- live card --------------------------------------------------------

  follow(ref) {
    const value = ref ? Object.values(ref)[0] : null;
    if (!value || this.card?.status === 'not_found') return this.stopStream();
    if (this.stream && !this.stream.stopped && this.stream.customer === value)
      return;
    this.stopStream();
    this.stream = new CardStream(this.client, value, {
      lastEventId: this.lastEventIds.get(value) || null,
      onCard: (card, id, initial) => {
        if (id) this.lastEventIds.set(value, id);
        this.liveCard(card, !initial);
      },
      onDown: (why) =>
        why === 'auth'
          ? this.notConfigured()
          : this.unreachable({ kind: 'network' }),
    }).start();
  }

  stopStream() {
    this.stream?.stop();
    this.stream = null;
  }

  // The stream's card is built without the message, so keep what only the
  // message told us: the repeat contact and facts from this conversation.
  liveCard(card, changed) {
    const previous = this.card;
    if (previous && card.status === 'ok') {
      if (!card.repeat_contact && previous.repeat_contact)
        card.repeat_contact = previous.repeat_contact;
      const fromConversation = (previous.already_told_us || []).filter(
        (f) => f.source === 'conversation',
      );
      card.already_told_us = [
        ...fromConversation,
        ...(card.already_told_us || []),
      ];
    }
    this.card = card;
    this.renderCardSection(this.customerRef());
    this.setState(this.stateName(), this.stateText(), { updated: changed });
  }

  // ---- painting ---------------------------------------------------------

  paint(ref) {
    this.cancelRetry();
    this.retry.attempt = 0;
    this.root.removeAttribute('aria-busy');
    this.renderCardSection(ref);
    this.renderIdentify();
    this.sections.understanding.replaceChildren(
      ...(this.result ? renderUnderstanding(this.result) : []),
    );
    this.sections.understanding.hidden = !this.result;
    const actions = {
      insert: (item) => this.insert(item),
      copy: (item) => this.copy(item),
      'thumbs-up': (item, button) => this.thumb(item, button, 'thumbs_up'),
      'thumbs-down': (item, button) => this.thumb(item, button, 'thumbs_down'),
    };
    const { nodes, ordered } = this.result
      ? renderSuggestions(this.result, actions)
      : { nodes: [], ordered: [] };
    this.ordered = ordered;
    const heading = h('h2', { id: 'suggestions-heading' }, 'What to say');
    const empty =
      this.result && !ordered.length
        ? h('p', { className: 'muted' }, 'No suggestions fit this message.')
        : null;
    this.sections.suggestions.replaceChildren(
      heading,
      ...nodes,
      ...(empty ? [empty] : []),
    );
    this.sections.suggestions.hidden = !this.result;
    this.setState(this.stateName(), this.stateText());
    if (this.result) {
      document.body.dataset.requestId = this.result.request_id;
      document.body.dataset.paintedAt = String(Date.now());
    }
  }

  renderCardSection(ref) {
    this.sections.card.replaceChildren(...renderCard(this.card, ref));
    this.sections.card.hidden = false;
  }

  stateName() {
    if (this.card?.stale) return 'stale';
    if (!this.card || ['not_found', 'error'].includes(this.card.status))
      return 'no-customer';
    return 'ready';
  }

  stateText() {
    const count = this.ordered.length;
    const what = this.result
      ? `${count} suggestion${count === 1 ? '' : 's'}`
      : 'Customer details';
    const name = this.card?.customer?.name;
    switch (this.stateName()) {
      case 'stale':
        return `${what} ready. The CRM data may be out of date; a refresh is running.`;
      case 'ready':
        if (this.card.status === 'pending')
          return `${what} ready. Customer details are still loading from the CRM.`;
        return `${what} ready${name ? ` for ${name}` : ''}.`;
      default: {
        const ref = this.customerRef();
        if (this.card?.status === 'error')
          return `${what} ready. The CRM could not be reached.`;
        if (ref)
          return `${what} ready. No customer found for ${Object.values(ref)[0]}.`;
        return `${what} ready. No customer identified: pick one below or search by email or phone.`;
      }
    }
  }

  setState(name, text, { updated = false, idle = false } = {}) {
    this.stateEl.dataset.state = name;
    this.stateEl.dataset.idle = String(idle); // waiting for work is calm, not a warning
    this.sourceEl.textContent = this.sourceText();
    this.stateText_.textContent = updated
      ? `${text} Customer details updated just now.`
      : text;
    if (name !== 'unreachable' && name !== 'not-configured')
      this.showActions([]);
  }

  // Where the message came from, so the agent knows what the panel follows.
  sourceText() {
    const context = this.context;
    if (!context?.message) return '';
    if (context.source === 'paste') return 'From: the pasted message';
    if (context.source === 'selection') return 'From: the selected text';
    return context.site ? `From: ${context.site}` : '';
  }

  showActions(nodes) {
    this.actionsEl.replaceChildren(...nodes);
  }

  clearContent() {
    for (const key of ['card', 'understanding', 'suggestions', 'identify']) {
      this.sections[key].replaceChildren();
      this.sections[key].hidden = true;
    }
    this.ordered = [];
  }

  // Emails and phones seen in the conversation, and a search box.
  renderIdentify() {
    const current = this.customerRef()
      ? Object.values(this.customerRef())[0]
      : null;
    this.sections.identify.replaceChildren(
      ...identifyNodes(this.context?.candidates, current, (v) => this.pick(v)),
    );
    this.sections.identify.hidden = false;
  }

  pasted(message) {
    this.context = {
      ...(this.context || {}),
      source: 'paste',
      message,
      conversation: [],
    };
    this.run();
  }

  pick(value) {
    this.override = value.includes('@') ? { email: value } : { phone: value };
    this.run();
  }

  // ---- using a suggestion ----------------------------------------------

  event(item, event) {
    return { request_id: this.result.request_id, phrase_id: item.id, event };
  }

  async insert(item) {
    const answer = await this.host
      .insert(item.text)
      .catch(() => ({ inserted: false, reason: 'no-page' }));
    if (answer?.inserted) {
      this.toast('Inserted into the reply box.');
      this.client.feedback([this.event(item, 'inserted')]);
      return;
    }
    const copied = await copyText(item.text);
    const reason = REASONS[answer?.reason] || 'Could not insert';
    if (copied) {
      this.toast(
        `${reason}: copied to the clipboard instead. Paste it with Ctrl+V.`,
      );
      this.client.feedback([this.event(item, 'copied')]);
    } else {
      this.toast(
        `${reason}, and the clipboard is not available: select the text and copy it.`,
      );
    }
  }

  async copy(item) {
    if (await copyText(item.text)) {
      this.toast('Copied to the clipboard.');
      this.client.feedback([this.event(item, 'copied')]);
    } else {
      this.toast(
        'The clipboard is not available: select the text and copy it.',
      );
    }
  }

  thumb(item, button, event) {
    const item_ = button.closest('[data-testid=suggestion]');
    for (const other of item_.querySelectorAll('[data-action^=thumbs]'))
      other.setAttribute('aria-pressed', 'false');
    button.setAttribute('aria-pressed', 'true');
    this.toast(
      event === 'thumbs_up'
        ? 'Thanks: marked as helpful.'
        : 'Thanks: marked as not helpful.',
    );
    this.client.feedback([this.event(item, event)]);
  }

  /** Insert the suggestion numbered `rank` (1-3): Alt+1..3 here, or a Chrome command. */
  activate(rank) {
    const item = this.ordered[rank - 1];
    if (!item) {
      this.toast(`There is no suggestion ${rank} yet.`);
      return;
    }
    this.insert(item);
  }

  onKey(event) {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const match = /^Digit([1-3])$/.exec(event.code);
    if (!match) return;
    event.preventDefault();
    this.activate(Number(match[1]));
  }

  toast(text) {
    // Clear first so the same message twice is announced twice; hide after
    // a while so it never covers a suggestion for long.
    this.toastEl.textContent = '';
    clearTimeout(this.toastTimer);
    setTimeout(() => (this.toastEl.textContent = text), 30);
    this.toastTimer = setTimeout(() => (this.toastEl.textContent = ''), 8000);
  }

  // ---- the skeleton -----------------------------------------------------

  build() {
    this.stateText_ = h('p', { className: 'state-text' });
    this.stateEl = h(
      'div',
      {
        className: 'state',
        role: 'status',
        'aria-live': 'polite',
        dataset: { testid: 'state', state: 'loading' },
      },
      this.stateText_,
    );
    this.stateText_.textContent = 'Starting…';
    this.actionsEl = h('div', { className: 'state-actions' });
    this.sourceEl = h('p', {
      className: 'muted source',
      dataset: { testid: 'source' },
    });
    const section = (name, label) =>
      h('section', {
        className: `section section-${name}`,
        'aria-label': label,
        hidden: true,
      });
    this.sections = {
      card: section('card', 'Customer'),
      identify: section('identify', 'Identify the customer'),
      understanding: section('understanding', 'How the customer feels'),
      suggestions: section('suggestions', 'Suggestions'),
    };
    this.toastEl = h('p', {
      className: 'toast',
      role: 'status',
      'aria-live': 'polite',
      dataset: { testid: 'toast' },
    });
    this.root.replaceChildren(
      h(
        'header',
        { className: 'bar' },
        h('h1', {}, 'assist'),
        this.stateEl,
        this.actionsEl,
        this.sourceEl,
      ),
      this.sections.card,
      this.sections.understanding,
      this.sections.suggestions,
      this.sections.identify,
      pasteForm((message) => this.pasted(message)),
      this.toastEl,
    );
  }
}
