// The Chrome side panel: the shared panel (panel.js) with a host that reads
// settings from chrome.storage.local, page context from chrome.storage.session
// (written by the service worker) and inserts through the content script.
//
// ?tabId=<id> pins the panel to one tab (used by tests, which open this page
// in a normal tab); otherwise it follows the active tab of its window.

import { createPanel } from './panel.js';

const pinned = new URLSearchParams(location.search).get('tabId');
let tabId = pinned === null ? null : Number(pinned);
let windowId = null;
const contextListeners = [];
const settingsListeners = [];

async function activeTabId() {
  if (pinned !== null) return tabId;
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? null;
}

async function contextOf(id) {
  if (id === null) return null;
  const key = `context:${id}`;
  const stored = await chrome.storage.session.get(key);
  return stored[key] || null;
}

const host = {
  settingsLabel: 'Open options',
  async settings() {
    const { backendUrl, token } = await chrome.storage.local.get([
      'backendUrl',
      'token',
    ]);
    return { backendUrl, token };
  },
  onSettingsChanged(callback) {
    settingsListeners.push(callback);
  },
  openSettings() {
    chrome.runtime.openOptionsPage();
  },
  async context() {
    tabId = await activeTabId();
    return contextOf(tabId);
  },
  onContext(callback) {
    contextListeners.push(callback);
  },
  async insert(text) {
    if (tabId === null) return { inserted: false, reason: 'no-page' };
    try {
      const answer = await chrome.tabs.sendMessage(tabId, {
        type: 'insert-text',
        target: 'content-script',
        data: { text },
      });
      return answer || { inserted: false, reason: 'no-page' };
    } catch {
      return { inserted: false, reason: 'no-page' }; // no content script in that tab
    }
  },
};

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && (changes.backendUrl || changes.token)) {
    for (const callback of settingsListeners) callback();
  }
  const key = `context:${tabId}`;
  if (area === 'session' && changes[key]) {
    for (const callback of contextListeners)
      callback(changes[key].newValue || null);
  }
});

chrome.tabs.onActivated.addListener(async (info) => {
  if (pinned !== null || (windowId !== null && info.windowId !== windowId))
    return;
  tabId = info.tabId;
  const context = await contextOf(tabId);
  for (const callback of contextListeners) callback(context);
});

const panel = createPanel(document.getElementById('assist-panel'), host);

chrome.windows
  .getCurrent()
  .then((win) => (windowId = win.id))
  .catch(() => {});

chrome.runtime.onMessage.addListener((message) => {
  if (message?.target !== 'side-panel') return false;
  switch (message.type) {
    case 'insert-top':
      if (message.data?.tabId === undefined || message.data.tabId === tabId) {
        panel.activate(Number(message.data?.rank) || 1);
      }
      return false;
    default:
      console.warn('assist: unknown message type', message.type);
      return false;
  }
});
