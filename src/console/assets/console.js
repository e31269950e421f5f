// Small enhancements to pages that work without it: copy buttons, live ID checks, typed
// confirmations and an image-name filter. Loaded from this origin only (the CSP allows nothing else).

for (const button of document.querySelectorAll('button[data-copy]')) {
  button.hidden = false;
  button.addEventListener('click', async () => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = 'Copied';
    } catch {
      const range = document.createRange();
      range.selectNodeContents(source);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = 'Press Ctrl+C';
    }
    setTimeout(() => {
      button.textContent = 'Copy';
    }, 2000);
  });
}

// The ID rules live in the input's pattern attribute (the server checks them again on submit).
for (const input of document.querySelectorAll('input[data-id-rules]')) {
  const hint = document.getElementById(input.getAttribute('aria-describedby'));
  const rules = hint ? hint.textContent : '';
  const pattern = new RegExp(`^(?:${input.getAttribute('pattern')})$`);
  const check = () => {
    const value = input.value;
    let problem = '';
    if (value === '') problem = '';
    else if (!/^[a-z]/.test(value)) problem = 'Must start with a lowercase letter.';
    else if (/[^a-z0-9-]/.test(value)) problem = 'Only lowercase letters, digits and hyphens.';
    else if (value.endsWith('-')) problem = 'Must not end with a hyphen.';
    else if (value.length > 63) problem = 'At most 63 characters.';
    else if (!pattern.test(value)) problem = 'Not a valid ID.';
    input.setAttribute('aria-invalid', problem ? 'true' : 'false');
    if (hint) {
      hint.textContent = problem || (value ? `${value} is a valid ID.` : rules);
      hint.classList.toggle('bad', problem !== '');
    }
  };
  input.addEventListener('input', check);
}

// A destructive button stays disabled until the expected text is typed.
for (const input of document.querySelectorAll('input[data-confirm-text]')) {
  const button = input.form?.querySelector('button[type=submit]');
  if (!button) continue;
  const update = () => {
    button.disabled = input.value !== input.dataset.confirmText;
  };
  input.addEventListener('input', update);
  update();
}

// Filters the rows of a table as one types, on top of the server-side filter form.
for (const input of document.querySelectorAll('input[data-filter-rows]')) {
  const table = document.getElementById(input.dataset.filterRows);
  if (!table) continue;
  input.addEventListener('input', () => {
    const needle = input.value.trim().toLowerCase();
    for (const row of table.tBodies[0]?.rows ?? []) {
      row.hidden = needle !== '' && !(row.dataset.name ?? '').includes(needle);
    }
  });
}
