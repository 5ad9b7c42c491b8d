// Site adapters, written as data: where a help desk shows the open
// conversation, the customer's last message, their email or phone, and the
// reply box. A new help desk is one more entry here, or a custom adapter
// added on the options page (stored in chrome.storage.sync).
//
// Fields (every selector is a CSS selector list; all but `matches` optional):
//   id, name         identity shown on the options page
//   matches          Chrome match patterns; `{backend}` is replaced by the
//                    configured backend origin (used by the /demo page)
//   conversation     the element holding the open conversation
//   customerMessage  the customer's messages inside it (the last one is used;
//                    earlier ones are sent as conversation history)
//   email, phone     elements showing the customer's email / phone (text,
//                    mailto:/tel: links, or `email`/`data-email` attributes)
//   replyBox         where the agent types (textarea or contenteditable)
//   channel          chat | email | phone, when the site is one channel
//
// The third-party selectors are best effort: help desks change their markup
// without notice. Each was written from the vendor's current agent UI;
// correct one on the options page (custom adapters win over built-ins).

export const BUILTIN_ADAPTERS = [
  {
    id: 'assist-demo',
    name: 'assist demo help desk',
    matches: ['{backend}/demo*'],
    conversation: '[data-testid=conversation]',
    customerMessage: '[data-testid=conversation] .message.customer',
    email: '[data-testid=conversation] [data-testid=customer-email]',
    phone: '[data-testid=conversation] [data-testid=customer-phone]',
    replyBox: 'textarea[data-testid=reply-box]',
    channel: 'chat',
  },
  {
    id: 'zendesk',
    name: 'Zendesk Agent Workspace',
    matches: ['https://*.zendesk.com/agent/*'],
    conversation: '[data-test-id="omni-log-container"], .ticket-conversation',
    customerMessage:
      '[data-test-id="omni-log-container"] [data-test-id="omni-log-comment-item"]:not([data-test-id*="agent"]) [data-test-id="omni-log-message-content"], .event.is-public:not(.agent) .zd-comment',
    email:
      '[data-test-id="customer-context-user-email"], [data-test-id="ticket-system-field-requester-select"] [title*="@"]',
    phone: '[data-test-id="customer-context-user-phone"]',
    replyBox:
      '[data-test-id="omnicomposer-rich-text-ckeditor"][contenteditable="true"], .ck-editor__editable[contenteditable="true"], textarea[name="comment[value]"]',
  },
  {
    id: 'freshdesk',
    name: 'Freshdesk',
    matches: ['https://*.freshdesk.com/a/tickets/*'],
    conversation:
      '.ticket-details__conversation, [data-test-id="conversation-wrapper"]',
    customerMessage:
      '[data-test-conversation="requester"] .conversation-text, .conversation-item.is-requester .text__content, .ticket-description .text__content',
    email:
      '[data-test-id="requester-info-contact-email"], .requester-info a[href^="mailto:"]',
    phone:
      '[data-test-id="requester-info-contact-phone"], .requester-info a[href^="tel:"]',
    replyBox:
      '.fr-element.fr-view[contenteditable="true"], .redactor-editor[contenteditable="true"]',
    channel: 'email',
  },
  {
    id: 'hubspot',
    name: 'HubSpot inbox and help desk',
    matches: [
      'https://app.hubspot.com/live-messages/*',
      'https://app.hubspot.com/help-desk/*',
      'https://app-eu1.hubspot.com/live-messages/*',
      'https://app-eu1.hubspot.com/help-desk/*',
    ],
    conversation:
      '[data-test-id="thread-view"], [data-test-id="conversation-thread"]',
    customerMessage:
      '[data-test-id="message-bubble"][data-direction="INCOMING"], [data-test-id="thread-item-incoming"] [data-test-id="message-text"]',
    email:
      '[data-test-id="contact-email"], [data-selenium-test="contact-email"] a[href^="mailto:"]',
    phone: '[data-test-id="contact-phone"], a[href^="tel:"]',
    replyBox:
      '[data-test-id="rich-text-editor"] [contenteditable="true"], .public-DraftEditor-content[contenteditable="true"]',
  },
  {
    id: 'chatwoot',
    name: 'Chatwoot (app.chatwoot.com)',
    matches: ['https://app.chatwoot.com/app/accounts/*'],
    conversation: '.conversation-panel, [data-testid="conversation-messages"]',
    customerMessage:
      '.conversation-panel li.left .message-text__wrap, .conversation-panel .message-bubble-container.left .text-content',
    email:
      '.contact--info a[href^="mailto:"], .contact-info--details a[href^="mailto:"]',
    phone:
      '.contact--info a[href^="tel:"], .contact-info--details a[href^="tel:"]',
    replyBox:
      '.reply-box .ProseMirror[contenteditable="true"], .reply-box textarea',
    channel: 'chat',
  },
  {
    id: 'salesforce',
    name: 'Salesforce Service Console',
    matches: ['https://*.lightning.force.com/lightning/*'],
    conversation: '.conversation-body, .runtime_service_liveagentConversation',
    customerMessage:
      '.chatMessage.inbound .chatContent, .slds-chat-listitem_inbound .slds-chat-message__text',
    email: 'a[href^="mailto:"]',
    phone: 'a[href^="tel:"]',
    replyBox:
      'textarea.chat-input, .slds-chat-input textarea, textarea.slds-textarea',
  },
  {
    id: 'helpscout',
    name: 'Help Scout',
    matches: ['https://secure.helpscout.net/conversation/*'],
    conversation: '#convo, .c-conversation',
    customerMessage:
      '.thread.customer .messageBody, [data-cy="customer-thread"] [data-cy="thread-body"]',
    email: '.c-customer-profile a[href^="mailto:"], [data-cy="customer-email"]',
    phone: '.c-customer-profile a[href^="tel:"]',
    replyBox:
      '.redactor-editor[contenteditable="true"], .ProseMirror[contenteditable="true"]',
    channel: 'email',
  },
  {
    id: 'gmail',
    name: 'Gmail',
    matches: ['https://mail.google.com/mail/*'],
    conversation: '[role="main"] .nH.if, [role="main"]',
    customerMessage: '[role="main"] .adn.ads .a3s',
    email: '[role="main"] .gD[email]',
    replyBox: '[role="main"] div[contenteditable="true"][role="textbox"]',
    channel: 'email',
  },
];

export const SELECTOR_FIELDS = [
  'conversation',
  'customerMessage',
  'email',
  'phone',
  'replyBox',
];
export const CHANNELS = ['chat', 'email', 'phone'];

/** The adapter's match patterns with `{backend}` filled in (none if unset). */
export function adapterMatches(adapter, backendOrigin) {
  const patterns = [];
  for (const pattern of adapter.matches || []) {
    if (!pattern.includes('{backend}')) {
      patterns.push(pattern);
    } else if (backendOrigin) {
      patterns.push(pattern.replace('{backend}', backendOrigin));
    }
  }
  return patterns;
}

/** Is `pattern` a Chrome match pattern we accept (scheme://host/path)? */
export function isMatchPattern(pattern) {
  return patternToRegExp(pattern) !== null;
}

/** A RegExp for a Chrome match pattern, or null if it is not one. */
export function patternToRegExp(pattern) {
  const parts = /^(\*|https?):\/\/(\*|(?:\*\.)?[^/*:]+)(:\d+)?(\/.*)$/.exec(
    String(pattern || ''),
  );
  if (!parts) return null;
  const [, scheme, host, port, path] = parts;
  const esc = (s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const schemeRe = scheme === '*' ? 'https?' : scheme;
  let hostRe;
  if (host === '*') hostRe = '[^/:]+';
  else if (host.startsWith('*.'))
    hostRe = '(?:[^/:]+\\.)?' + esc(host.slice(2));
  else hostRe = esc(host);
  // Like Chrome: a pattern without a port matches every port.
  const portRe = port ? esc(port) : '(?::\\d+)?';
  const pathRe = path.split('*').map(esc).join('.*');
  return new RegExp(`^${schemeRe}://${hostRe}${portRe}${pathRe}$`);
}

/** The first adapter (custom ones first) whose patterns match `url`. */
export function adapterForUrl(adapters, url, backendOrigin) {
  for (const adapter of adapters) {
    for (const pattern of adapterMatches(adapter, backendOrigin)) {
      const re = patternToRegExp(pattern);
      if (re && re.test(url)) return adapter;
    }
  }
  return null;
}

/** Clean a custom adapter from the options form; returns {adapter} or {error, field}. */
export function validateAdapter(raw) {
  const name = String(raw.name || '').trim();
  if (!name || name.length > 60) {
    return {
      error: 'Give the adapter a name (at most 60 characters).',
      field: 'name',
    };
  }
  const matches = String(raw.matches || '')
    .split(/[\s,]+/)
    .filter(Boolean);
  if (!matches.length || !matches.every(isMatchPattern)) {
    return {
      error:
        'URL patterns look like https://desk.example.com/tickets/* (one or more).',
      field: 'matches',
    };
  }
  const adapter = { id: 'custom-' + slug(name), name, matches, custom: true };
  for (const field of SELECTOR_FIELDS) {
    const value = String(raw[field] || '').trim();
    if (!value) continue;
    if (value.length > 500) return { error: 'Selector too long.', field };
    adapter[field] = value;
  }
  if (!adapter.customerMessage) {
    return {
      error: 'The customer message selector is required.',
      field: 'customerMessage',
    };
  }
  if (raw.channel && CHANNELS.includes(raw.channel))
    adapter.channel = raw.channel;
  return { adapter };
}

function slug(text) {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'site'
  );
}

/** The origin of the configured backend (the `{backend}` in adapters' patterns), or null. */
export async function backendOrigin() {
  const { backendUrl } = await chrome.storage.local.get('backendUrl');
  try {
    return backendUrl ? new URL(backendUrl).origin : null;
  } catch {
    return null;
  }
}
