// The content script: follows the open conversation on a help desk whose
// adapter matches this page, tells the service worker about it, and inserts
// a chosen suggestion at the cursor of the reply box.
//
// It never sees the agent's token and never calls the backend: only the side
// panel and the service worker do. Messages are {type, target, data}.

(() => {
  // Registered scripts and the injection into already-open tabs can both run.
  if (globalThis.__assistContentScript) return;
  globalThis.__assistContentScript = true;

  // Read at once on the first change (a conversation usually renders in one
  // task), then once more after a burst settles, and at most every 100 ms.
  const SETTLE_MS = 60;
  const THROTTLE_MS = 100;
  const MAX_MESSAGE = 5000;
  const MAX_HISTORY = 10;
  const EMAIL_RE = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
  const PHONE_RE = /\+?\d[\d\s().-]{7,}\d/g;

  let adapter = null;
  let lastSent = '';
  let timer = null;
  let lastRead = -Infinity;
  let savedRange = null; // the cursor in a contenteditable reply box
  const touched = new WeakSet(); // reply boxes the agent has put a cursor in

  chrome.runtime
    .sendMessage({
      type: 'adapter-for-page',
      target: 'service-worker',
      data: {},
    })
    .then((answer) => {
      adapter = answer?.adapter || null;
      if (!adapter) return;
      new MutationObserver(onMutations).observe(document.documentElement, {
        childList: true,
        subtree: true,
        characterData: true,
      });
      document.addEventListener('selectionchange', rememberCursor);
      document.addEventListener(
        'focusin',
        (event) => touched.add(event.target),
        true,
      );
      schedule();
    })
    .catch((error) => console.warn('assist: no adapter', error));

  chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
    if (message?.target !== 'content-script') return false;
    switch (message.type) {
      case 'insert-text':
        sendResponse(insertText(String(message.data?.text || '')));
        return false;
      case 'read-context':
        lastSent = '';
        schedule();
        sendResponse({ ok: true });
        return false;
      default:
        console.warn('assist: unknown message type', message.type);
        return false;
    }
  });

  function onMutations() {
    const now = performance.now();
    if (now - lastRead >= THROTTLE_MS) report();
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(report, SETTLE_MS);
  }

  function report() {
    lastRead = performance.now();
    const context = readContext();
    const key = JSON.stringify([
      context.message,
      context.customer,
      context.url,
    ]);
    if (key === lastSent) return;
    lastSent = key;
    chrome.runtime
      .sendMessage({
        type: 'page-context',
        target: 'service-worker',
        data: context,
      })
      .catch(() => {}); // the extension was reloaded: this script is orphaned
  }

  /** What the page shows now: the customer's last message, who they are, the reply box. */
  function readContext() {
    const scope = first(adapter.conversation) || document;
    const messages = all(adapter.customerMessage)
      .filter((el) => scope === document || scope.contains(el))
      .map((el) => clean(el.textContent))
      .filter(Boolean);
    const message = (messages.at(-1) || '').slice(0, MAX_MESSAGE);
    const history = messages.slice(0, -1).slice(-MAX_HISTORY);
    const email = valueFrom(first(adapter.email), EMAIL_RE, 'mailto:');
    const phone = email
      ? null
      : valueFrom(first(adapter.phone), PHONE_RE, 'tel:');
    const text = scope === document ? '' : visibleWords(scope);
    return {
      source: 'adapter',
      site: adapter.name,
      url: location.href,
      message,
      conversation: history.map((t) => ({
        role: 'customer',
        text: t.slice(0, MAX_MESSAGE),
      })),
      customer: email ? { email } : phone ? { phone } : null,
      candidates: {
        emails: unique([email, ...(text.match(EMAIL_RE) || [])]),
        phones: unique([phone, ...(text.match(PHONE_RE) || []).map(clean)]),
      },
      channel: adapter.channel || null,
      replyBox: Boolean(replyBox()),
    };
  }

  // The text nodes joined by spaces: textContent would glue "Email" and
  // "maria@example.com" from neighbouring cells into one false address.
  function visibleWords(root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const parts = [];
    let length = 0;
    while (walker.nextNode() && length < 50000) {
      parts.push(walker.currentNode.data);
      length += walker.currentNode.data.length;
    }
    return parts.join(' ');
  }

  function first(selector) {
    if (!selector) return null;
    try {
      return document.querySelector(selector);
    } catch {
      return null; // a bad selector in a custom adapter
    }
  }

  function all(selector) {
    if (!selector) return [];
    try {
      return [...document.querySelectorAll(selector)];
    } catch {
      return [];
    }
  }

  // Emails and phones hide in text, links and attributes (Gmail's `email`).
  function valueFrom(el, re, scheme) {
    if (!el) return null;
    const href = el.getAttribute('href') || '';
    const sources = [
      href.startsWith(scheme)
        ? decodeURIComponent(href.slice(scheme.length))
        : '',
      el.getAttribute('email'),
      el.getAttribute('data-email'),
      el.value,
      el.textContent,
      el.getAttribute('title'),
    ];
    for (const source of sources) {
      const found = String(source || '').match(re);
      if (found) return clean(found[0]);
    }
    return null;
  }

  function clean(text) {
    return String(text || '')
      .replace(/\s+/g, ' ')
      .trim();
  }

  function unique(values) {
    return [...new Set(values.filter(Boolean))].slice(0, 5);
  }

  function replyBox() {
    const box = first(adapter?.replyBox);
    if (box) return box;
    const active = document.activeElement;
    return isEditable(active) ? active : null;
  }

  function isEditable(el) {
    if (!el) return false;
    if (el.tagName === 'TEXTAREA') return true;
    if (el.tagName === 'INPUT') return /^(text|search|)$/.test(el.type || '');
    return el.isContentEditable;
  }

  // Focus moves to the side panel when the agent clicks Insert; remember
  // where the cursor was in a contenteditable box so we insert there.
  function rememberCursor() {
    const box = replyBox();
    const selection = document.getSelection();
    if (!box || !box.isContentEditable || !selection.rangeCount) return;
    const range = selection.getRangeAt(0);
    if (box.contains(range.startContainer)) savedRange = range.cloneRange();
  }

  /** Insert at the reply box's cursor; {inserted, reason}. */
  function insertText(text) {
    const box = replyBox();
    if (!text) return { inserted: false, reason: 'empty' };
    if (!box) return { inserted: false, reason: 'no-reply-box' };
    const wasTouched = touched.has(box);
    box.focus();
    if (box.isContentEditable) {
      restoreCursor(box);
    } else if (!wasTouched) {
      // Never clicked into: add after what is there, not before it.
      box.setSelectionRange(box.value.length, box.value.length);
    }
    text = spaced(box, text);
    // execCommand keeps the page's undo stack and fires the input events
    // help-desk editors (React, ProseMirror, CKEditor) listen to. It can
    // report success yet do nothing while the page's window lacks focus, so
    // check the box really changed.
    const before = box.isContentEditable ? box.textContent : box.value;
    const done = document.execCommand('insertText', false, text);
    const after = box.isContentEditable ? box.textContent : box.value;
    if (done && after !== before) return { inserted: true };
    if (box.isContentEditable) return insertIntoEditable(box, text);
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.setRangeText(text, start, end, 'end');
    return announceInput(box, text);
  }

  // Tell the page's editor (React, Vue, ...) that its text changed, as typing would.
  function announceInput(box, text) {
    box.dispatchEvent(
      new InputEvent('input', { bubbles: true, inputType: 'insertText', data: text }),
    );
    return { inserted: true };
  }

  // "Hi Maria," + "I'm sorry" -> "Hi Maria, I'm sorry": a space when the
  // cursor follows a word or punctuation.
  function spaced(box, text) {
    let before = '';
    if (box.isContentEditable) {
      const selection = document.getSelection();
      if (selection.rangeCount) {
        const cursor = selection.getRangeAt(0);
        const head = document.createRange();
        head.selectNodeContents(box);
        head.setEnd(cursor.startContainer, cursor.startOffset);
        before = head.toString();
      }
    } else {
      before = box.value.slice(0, box.selectionStart ?? box.value.length);
    }
    return before && !/\s$/.test(before) ? ` ${text}` : text;
  }

  function restoreCursor(box) {
    const selection = document.getSelection();
    if (savedRange && box.contains(savedRange.startContainer)) {
      selection.removeAllRanges();
      selection.addRange(savedRange);
    } else {
      // No cursor of the agent's (focus() put one at the start): append.
      const range = document.createRange();
      range.selectNodeContents(box);
      range.collapse(false); // no cursor yet: append at the end
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }

  function insertIntoEditable(box, text) {
    const selection = document.getSelection();
    const range = selection.getRangeAt(0);
    range.deleteContents();
    const node = document.createTextNode(text);
    range.insertNode(node);
    range.setStartAfter(node);
    range.collapse(true);
    selection.removeAllRanges();
    selection.addRange(range);
    return announceInput(box, text);
  }
})();
