// The options page: backend URL and token (with "test connection"), the help
// desks assist may follow, and custom site adapters.

import {
  BUILTIN_ADAPTERS,
  SELECTOR_FIELDS,
  adapterMatches,
  backendOrigin,
  validateAdapter,
} from '../site-adapters.js';
import { parseBackendUrl, testConnection } from './connection.js';

const $ = (id) => document.getElementById(id);

function say(element, result, message) {
  element.dataset.result = result;
  element.textContent = message;
}

async function load() {
  const { backendUrl = '', token = '' } = await chrome.storage.local.get([
    'backendUrl',
    'token',
  ]);
  $('backend-url').value = backendUrl;
  $('token').value = token;
  await renderAdapters();
}

// ---- connection -------------------------------------------------------

$('connection').addEventListener('submit', async (event) => {
  event.preventDefault();
  const out = $('connection-result');
  const parsed = parseBackendUrl($('backend-url').value);
  if (parsed.error) {
    $('backend-url').setAttribute('aria-invalid', 'true');
    return say(out, 'invalid', parsed.error);
  }
  $('backend-url').removeAttribute('aria-invalid');
  const token = $('token').value.trim();
  const origin = new URL(parsed.url).origin;
  say(out, 'testing', `Asking Chrome for permission to reach ${origin}…`);
  // Ask first, while the click still counts as a user gesture.
  let granted = false;
  try {
    granted = await chrome.permissions.request({ origins: [`${origin}/*`] });
  } catch (error) {
    granted = false;
  }
  await chrome.storage.local.set({ backendUrl: parsed.url, token });
  $('backend-url').value = parsed.url;
  if (!granted) {
    return say(
      out,
      'no-permission',
      `Saved, but Chrome did not allow assist to reach ${origin}. Click the button again and choose Allow.`,
    );
  }
  say(out, 'testing', `Testing ${origin}…`);
  const { result, message } = await testConnection(parsed.url, token);
  say(out, result, message);
  await renderAdapters();
});

$('show-token').addEventListener('click', (event) => {
  const shown = $('token').type === 'text';
  $('token').type = shown ? 'password' : 'text';
  event.currentTarget.textContent = shown ? 'Show' : 'Hide';
  event.currentTarget.setAttribute('aria-pressed', String(!shown));
});

$('open-shortcuts').addEventListener('click', () => {
  chrome.tabs.create({ url: 'chrome://extensions/shortcuts' });
});

// ---- help desks -------------------------------------------------------

async function customAdapters() {
  const { customAdapters = [] } =
    await chrome.storage.sync.get('customAdapters');
  return customAdapters;
}

async function renderAdapters() {
  const origin = await backendOrigin();
  const list = $('adapters');
  const items = [];
  for (const adapter of [...(await customAdapters()), ...BUILTIN_ADAPTERS]) {
    items.push(await adapterItem(adapter, origin));
  }
  list.replaceChildren(...items);
}

async function adapterItem(adapter, origin) {
  const patterns = adapterMatches(adapter, origin);
  const allowed =
    patterns.length > 0 &&
    (await chrome.permissions
      .contains({ origins: patterns })
      .catch(() => false));
  const li = document.createElement('li');
  li.dataset.adapter = adapter.id;
  const title = document.createElement('strong');
  title.textContent = adapter.name + (adapter.custom ? ' (yours)' : '');
  const where = document.createElement('p');
  const code = document.createElement('code');
  code.textContent =
    patterns.join('  ') ||
    'the backend’s /demo page (set the backend URL first)';
  where.append(code);
  const status = document.createElement('p');
  status.className = 'adapter-status muted';
  status.textContent = allowed
    ? 'Allowed: assist follows conversations here.'
    : 'Not allowed yet.';
  const row = document.createElement('div');
  row.className = 'row';
  if (adapter.matches.some((m) => m.includes('{backend}'))) {
    status.textContent += ' Allowed together with the backend URL.';
  } else {
    row.append(
      button(allowed ? 'Remove access' : 'Allow', () =>
        toggle(patterns, allowed, adapter.name),
      ),
    );
  }
  if (adapter.custom)
    row.append(button('Delete', () => removeCustom(adapter.id)));
  li.append(title, where, status, row);
  return li;
}

function button(label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

async function toggle(patterns, allowed, name) {
  const out = $('adapters-result');
  try {
    if (allowed) {
      await chrome.permissions.remove({ origins: patterns });
      say(out, 'ok', `assist no longer runs on ${name}.`);
    } else {
      const granted = await chrome.permissions.request({ origins: patterns });
      say(
        out,
        granted ? 'ok' : 'no-permission',
        granted
          ? `assist now follows ${name}. Reload its tabs.`
          : `Chrome did not allow access to ${name}.`,
      );
    }
  } catch (error) {
    say(out, 'error', `Could not change access: ${error.message}`);
  }
  await renderAdapters();
}

async function removeCustom(id) {
  const remaining = (await customAdapters()).filter((a) => a.id !== id);
  await chrome.storage.sync.set({ customAdapters: remaining });
  say($('adapters-result'), 'ok', 'Adapter deleted.');
  await renderAdapters();
}

// ---- custom adapter ---------------------------------------------------

$('custom-adapter').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const out = $('custom-result');
  for (const input of form.querySelectorAll('[aria-invalid]'))
    input.removeAttribute('aria-invalid');
  const raw = Object.fromEntries(new FormData(form).entries());
  // The input is not named "matches": form.matches would then hide Element.matches.
  raw.matches = raw.patterns;
  const checked = validateAdapter(raw);
  const badSelector = SELECTOR_FIELDS.find(
    (field) => checked.adapter?.[field] && !isSelector(checked.adapter[field]),
  );
  if (checked.error || badSelector) {
    const field = checked.field || badSelector;
    const input = form.elements[field === 'matches' ? 'patterns' : field];
    input?.setAttribute('aria-invalid', 'true');
    input?.focus();
    return say(
      out,
      'invalid',
      checked.error || `That is not a valid CSS selector: ${raw[field]}`,
    );
  }
  // Ask for the sites first, while the click still counts as a user gesture.
  const granted = await chrome.permissions
    .request({ origins: checked.adapter.matches })
    .catch(() => false);
  const others = (await customAdapters()).filter(
    (a) => a.id !== checked.adapter.id,
  );
  await chrome.storage.sync.set({
    customAdapters: [checked.adapter, ...others],
  });
  say(
    out,
    granted ? 'ok' : 'no-permission',
    granted
      ? `Saved ${checked.adapter.name}. Reload its tabs to start.`
      : `Saved ${checked.adapter.name}, but Chrome did not allow access to it yet: use Allow in the list above.`,
  );
  form.reset();
  await renderAdapters();
});

function isSelector(selector) {
  try {
    document.createDocumentFragment().querySelector(selector);
    return true;
  } catch {
    return false;
  }
}

load();
