// The service worker: routes page context to the side panel, registers the
// content script on help desks the agent granted, and handles the
// "Suggest for selection" menu item and the keyboard commands.
//
// Page context flows content script -> here -> chrome.storage.session
// (key `context:<tabId>`) -> side panel, which reads it on load and listens
// for changes. Messages are {type, target, data}.

import {
  BUILTIN_ADAPTERS,
  adapterForUrl,
  adapterMatches,
  backendOrigin,
} from './site-adapters.js';

const SCRIPT_ID = 'assist-site-adapters';
const MENU_ID = 'suggest-selection';
const MAX_SELECTION = 5000;

chrome.runtime.onInstalled.addListener(() => {
  // removeAll first: onInstalled also fires on update and reload.
  chrome.contextMenus.removeAll(() => {
    chrome.contextMenus.create({
      id: MENU_ID,
      title: 'Suggest for selection',
      contexts: ['selection'],
    });
  });
  setUp();
});
chrome.runtime.onStartup.addListener(setUp);

async function setUp() {
  await chrome.sidePanel
    .setPanelBehavior({ openPanelOnActionClick: true })
    .catch((error) => console.warn('assist: side panel behaviour', error));
  await protectSettings();
  await syncContentScripts();
}

// The token lives in chrome.storage.local. Content scripts never read it;
// where Chrome supports it, local storage is also closed to them entirely.
async function protectSettings() {
  try {
    await chrome.storage.local.setAccessLevel({
      accessLevel: 'TRUSTED_CONTEXTS',
    });
  } catch {
    // Older Chrome only supports this for storage.session (closed by default).
  }
}

/** Every adapter: the agent's custom ones first, so they win over built-ins. */
async function allAdapters() {
  const { customAdapters = [] } =
    await chrome.storage.sync.get('customAdapters');
  return [...customAdapters, ...BUILTIN_ADAPTERS];
}

// One sync at a time: granting the backend fires permissions.onAdded and the
// saved URL fires storage.onChanged together, and two overlapping
// unregister/register rounds would fail with a duplicate script id.
let syncing = Promise.resolve();

function syncContentScripts() {
  syncing = syncing
    .then(registerForGrantedSites)
    .catch((error) => console.warn('assist: content scripts', error));
  return syncing;
}

/** Register the content script on every adapter URL the agent granted. */
async function registerForGrantedSites() {
  const origin = await backendOrigin();
  const granted = [];
  for (const adapter of await allAdapters()) {
    for (const pattern of adapterMatches(adapter, origin)) {
      if (await hasPermission(pattern)) granted.push(pattern);
    }
  }
  const matches = [...new Set(granted)];
  const existing = await chrome.scripting.getRegisteredContentScripts({
    ids: [SCRIPT_ID],
  });
  if (existing.length)
    await chrome.scripting.unregisterContentScripts({ ids: [SCRIPT_ID] });
  if (!matches.length) return;
  await chrome.scripting.registerContentScripts([
    {
      id: SCRIPT_ID,
      matches,
      js: ['content-script.js'],
      runAt: 'document_idle',
    },
  ]);
  await injectIntoOpenTabs(matches);
}

async function hasPermission(pattern) {
  try {
    return await chrome.permissions.contains({ origins: [pattern] });
  } catch {
    return false;
  }
}

// Registered scripts only run on the next page load: start them in tabs
// that are already open (the content script ignores a second injection).
async function injectIntoOpenTabs(matches) {
  const tabs = await chrome.tabs.query({ url: matches }).catch(() => []);
  for (const tab of tabs) {
    chrome.scripting
      .executeScript({
        target: { tabId: tab.id },
        files: ['content-script.js'],
      })
      .catch(() => {});
  }
}

chrome.permissions.onAdded.addListener(syncContentScripts);
chrome.permissions.onRemoved.addListener(syncContentScripts);
chrome.storage.onChanged.addListener((changes, area) => {
  if (
    (area === 'sync' && changes.customAdapters) ||
    (area === 'local' && changes.backendUrl)
  ) {
    syncContentScripts();
  }
});

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (message?.target !== 'service-worker') return false;
  switch (message.type) {
    case 'adapter-for-page':
      adapterFor(sender).then(sendResponse);
      return true;
    case 'page-context':
      if (sender.tab?.id !== undefined)
        storeContext(sender.tab.id, message.data);
      return false;
    default:
      console.warn('assist: unknown message type', message.type);
      return false;
  }
});

async function adapterFor(sender) {
  // Trust the URL Chrome reports for the sender, not one the page could fake.
  const url = sender.url || sender.tab?.url || '';
  const adapter = adapterForUrl(
    await allAdapters(),
    url,
    await backendOrigin(),
  );
  return { adapter };
}

/** What the side panel shows for a tab: the open conversation or a selection. */
async function storeContext(tabId, data) {
  const context = { ...data, tabId, receivedAt: Date.now() };
  await chrome.storage.session.set({ [`context:${tabId}`]: context });
}

chrome.tabs.onRemoved.addListener((tabId) => {
  chrome.storage.session.remove(`context:${tabId}`);
});

function onMenuClick(info, tab) {
  if (info.menuItemId !== MENU_ID || !tab) return Promise.resolve();
  openPanel(tab); // first, while the click still counts as a user gesture
  return suggestForSelection(tab, info.selectionText);
}

function onCommand(command, tab) {
  switch (command) {
    case 'suggest-selection':
      if (!tab) return Promise.resolve();
      openPanel(tab);
      return readSelection(tab).then((text) => suggestForSelection(tab, text));
    case 'insert-1':
    case 'insert-2':
    case 'insert-3':
      return chrome.runtime
        .sendMessage({
          type: 'insert-top',
          target: 'side-panel',
          data: { rank: Number(command.slice(-1)), tabId: tab?.id },
        })
        .catch(() => {}); // no panel open: nothing to insert
    default:
      console.warn('assist: unknown command', command);
      return Promise.resolve();
  }
}

chrome.contextMenus.onClicked.addListener(onMenuClick);
chrome.commands.onCommand.addListener(onCommand);
// Headless chromium can neither click a context-menu item nor press a Chrome
// command, so the end-to-end tests call these two handlers from the service
// worker itself. The worker's global scope is reachable only by the extension.
globalThis.assistHandlers = { onMenuClick, onCommand };

function openPanel(tab) {
  chrome.sidePanel.open({ tabId: tab.id }).catch((error) => {
    console.warn('assist: could not open the side panel', error);
  });
}

// The command grants activeTab, so this works on any page without a
// standing host permission.
async function readSelection(tab) {
  try {
    const [result] = await chrome.scripting.executeScript({
      target: { tabId: tab.id },
      func: () => String(getSelection() || ''),
    });
    return result?.result || '';
  } catch (error) {
    console.warn('assist: could not read the selection', error);
    return '';
  }
}

async function suggestForSelection(tab, text) {
  const message = String(text || '')
    .trim()
    .slice(0, MAX_SELECTION);
  if (!message) return;
  // Keep the customer a site adapter found on this page, if any.
  const key = `context:${tab.id}`;
  const { [key]: previous } = await chrome.storage.session.get(key);
  const samePage = previous && previous.url === tab.url;
  await storeContext(tab.id, {
    source: 'selection',
    site: samePage ? previous.site : 'Selection',
    url: tab.url || '',
    message,
    conversation: [],
    customer: samePage ? previous.customer : null,
    candidates: mergeCandidates(
      candidatesIn(message),
      samePage ? previous.candidates : null,
    ),
    replyBox: samePage ? previous.replyBox : false,
  });
}

const EMAIL_RE = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const PHONE_RE = /\+?\d[\d\s().-]{7,}\d/g;

function mergeCandidates(a, b) {
  return {
    emails: [...new Set([...(a.emails || []), ...(b?.emails || [])])].slice(
      0,
      5,
    ),
    phones: [...new Set([...(a.phones || []), ...(b?.phones || [])])].slice(
      0,
      5,
    ),
  };
}

function candidatesIn(text) {
  return {
    emails: [...new Set(text.match(EMAIL_RE) || [])].slice(0, 5),
    phones: [...new Set(text.match(PHONE_RE) || [])].slice(0, 5),
  };
}
