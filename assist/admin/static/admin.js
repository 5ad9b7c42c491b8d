// Shared helpers for every admin page. Loaded with `defer` from base.html.
// Every piece of text goes into the page with textContent (never innerHTML):
// phrase texts and CRM values are attacker-controlled.
'use strict';

(function () {
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  class ApiError extends Error {
    constructor(status, body) {
      const detail = body && body.error ? body.error : {};
      super(detail.message || `Request failed (${status})`);
      this.status = status;
      this.code = detail.code;
      this.field = detail.field;
      this.body = body;
    }
  }

  // fetch() with the session cookie and the CSRF header; JSON in and out.
  // Rejects with ApiError (status, code, field, message) on a non-2xx answer.
  async function api(path, options = {}) {
    const headers = { 'X-CSRF-Token': csrfToken(), Accept: 'application/json', ...(options.headers || {}) };
    let body = options.body;
    if (body !== undefined && !(body instanceof FormData) && typeof body !== 'string') {
      body = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
    const response = await fetch(path, {
      method: options.method || (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
    const type = response.headers.get('Content-Type') || '';
    const data = type.includes('application/json') ? await response.json() : await response.text();
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // el('a', {href: '/x', class: 'y', dataset: {id: 1}, text: 'hi'}, child, 'text', ...)
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'text') node.textContent = String(value);
      else if (name === 'class') node.className = value;
      else if (name === 'dataset') Object.assign(node.dataset, value);
      else if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  // Forms or buttons with data-confirm="question" ask before submitting
  // (an inline onclick would break the Content-Security-Policy).
  document.addEventListener('submit', (event) => {
    const submitter = event.submitter;
    const question = (submitter && submitter.dataset.confirm) || event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  window.Admin = { csrfToken, api, ApiError, el, clear, debounce };
})();
