// "Try a message": fill the message box with the chosen demo customer's message.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const button = document.getElementById('use-demo');
  if (!button) return;
  button.addEventListener('click', () => {
    const input = document.getElementById('customer');
    const options = [...document.querySelectorAll('#demo-customers option')];
    const chosen = options.find((o) => o.value === input.value) || options[0];
    if (!chosen) return;
    input.value = chosen.value;
    document.getElementById('message').value = chosen.dataset.message || '';
  });
});
