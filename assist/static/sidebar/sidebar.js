// /sidebar: the shared panel as a web page. The backend is this origin, the
// agent's token lives in sessionStorage (this tab only), and inside a
// Chatwoot dashboard-app iframe the conversation arrives as an `appContext`
// message, accepted only from the origins the server allows
// (ASSIST_SIDEBAR_ORIGINS), because Chatwoot posts it to '*'.

import { createPanel } from './panel.js';

const TOKEN_KEY = 'assist.token';
const FETCH_INFO = 'chatwoot-dashboard-app:fetch-info';
const MAX_TEXT = 5000;
const allowed = readAllowedOrigins();
const settingsListeners = [];
const contextListeners = [];
const form = document.getElementById('token-form');
const input = document.getElementById('token-input');

function readAllowedOrigins() {
  try {
    const parsed = JSON.parse(document.body.dataset.allowedOrigins || '[]');
    return Array.isArray(parsed)
      ? parsed.filter((o) => typeof o === 'string')
      : [];
  } catch {
    return [];
  }
}

const host = {
  settingsLabel: 'Enter token',
  async settings() {
    return {
      backendUrl: location.origin,
      token: sessionStorage.getItem(TOKEN_KEY),
    };
  },
  onSettingsChanged(callback) {
    settingsListeners.push(callback);
  },
  openSettings() {
    form.hidden = false;
    input.focus();
  },
  async context() {
    return null;
  },
  onContext(callback) {
    contextListeners.push(callback);
  },
  async insert() {
    // A cross-origin help desk never lets an iframe type into its reply box.
    return {
      inserted: false,
      reason: window.parent !== window ? 'embedded' : 'no-reply-box',
    };
  },
};

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = input.value.trim();
  if (!token) return input.focus();
  sessionStorage.setItem(TOKEN_KEY, token);
  input.value = '';
  form.hidden = true;
  for (const callback of settingsListeners) callback();
});

document.getElementById('token-forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  input.value = '';
  for (const callback of settingsListeners) callback();
  input.focus();
});

if (!sessionStorage.getItem(TOKEN_KEY)) form.hidden = false;

window.addEventListener('message', (event) => {
  if (!allowed.includes(event.origin)) return; // anyone can post to a frame
  const context = contextFromChatwoot(event.data);
  if (!context) return;
  for (const callback of contextListeners) callback(context);
});

/** A Chatwoot appContext message ({event, data: {conversation, contact, currentAgent}}) -> panel context. */
export function contextFromChatwoot(raw) {
  let message = raw;
  if (typeof message === 'string') {
    try {
      message = JSON.parse(message);
    } catch {
      return null;
    }
  }
  if (
    !message ||
    message.event !== 'appContext' ||
    typeof message.data !== 'object' ||
    !message.data
  ) {
    return null;
  }
  const { conversation = {}, contact = {}, currentAgent = {} } = message.data;
  const sender = conversation?.meta?.sender || {};
  const person = contact?.email || contact?.phone_number ? contact : sender;
  const incoming = (
    Array.isArray(conversation?.messages) ? conversation.messages : []
  )
    .filter(
      (m) =>
        m &&
        (m.message_type === 0 || m.message_type === 'incoming') &&
        !m.private,
    )
    .map((m) => text(m.content))
    .filter(Boolean);
  const email = text(person.email);
  const phone = text(person.phone_number);
  const all = incoming.join(' ');
  return {
    source: 'chatwoot',
    site: 'Chatwoot',
    url: `chatwoot:conversation:${text(String(conversation?.id ?? ''))}`,
    message: incoming.at(-1) || '',
    conversation: incoming
      .slice(0, -1)
      .slice(-10)
      .map((t) => ({ role: 'customer', text: t })),
    customer: email ? { email } : phone ? { phone } : null,
    candidates: {
      emails: unique([
        email,
        ...(all.match(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g) || []),
      ]),
      phones: unique([phone]),
    },
    channel: channelOf(conversation?.meta?.channel),
    agentName: text(currentAgent?.name),
    replyBox: false,
  };
}

function text(value) {
  return typeof value === 'string' ? value.trim().slice(0, MAX_TEXT) : '';
}

function unique(values) {
  return [...new Set(values.filter(Boolean))].slice(0, 5);
}

function channelOf(channel) {
  const name = String(channel || '')
    .replace('Channel::', '')
    .toLowerCase();
  if (name === 'email') return 'email';
  if (name === 'voice') return 'phone';
  return name ? 'chat' : null;
}

createPanel(document.getElementById('assist-panel'), host);

// Ask Chatwoot for the conversation now rather than waiting for it to change.
if (window.parent !== window) {
  for (const origin of allowed) window.parent.postMessage(FETCH_INFO, origin);
}
