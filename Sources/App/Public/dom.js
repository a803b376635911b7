// Building the DOM without innerHTML: every piece of text becomes a text node, so nothing the
// server or the user sends can turn into markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'on') for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (key === 'checked' && 'checked' in el) el.checked = Boolean(value);
    else if (key === 'style') throw new Error('inline styles are blocked by the Content-Security-Policy; use a class');
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** h('label', {for: 'x', class: 'label'}, 'Text', child, …) → an HTML element. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  apply(el, props);
  return append(el, children);
}

/** The same for SVG elements (charts, the compartment grid). */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props);
  return append(el, children);
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let uid = 0;
/** A document-unique id for label/field pairs. */
export function id(prefix = 'f') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * A form field in the KERN / GOV.UK pattern: label above, optional hint, the error text at the
 * field. Returns {wrap, input, setError(message)}; tests and screen readers find it by its label.
 */
export function field({ label, name, type = 'text', value, hint, required, autocomplete, inputmode, options, attrs = {}, rows }) {
  const fid = id(name || 'f');
  const hintId = hint ? `${fid}-hint` : null;
  const errorId = `${fid}-error`;
  let input;
  if (options) {
    input = h('select', { id: fid, name, ...attrs },
      options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value ?? '') ? true : undefined }, text)));
  } else if (type === 'textarea') {
    input = h('textarea', { id: fid, name, rows: rows || 4, ...attrs });
    if (value !== undefined && value !== null) input.value = value;
  } else {
    input = h('input', { id: fid, name, type, autocomplete, inputmode, ...attrs });
    if (type === 'checkbox') input.checked = Boolean(value);
    else if (value !== undefined && value !== null) input.value = value;
  }
  if (required) input.required = true;
  const describedBy = [hintId].filter(Boolean);
  if (describedBy.length) input.setAttribute('aria-describedby', describedBy.join(' '));
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const wrap = type === 'checkbox'
    ? h('div', { class: 'field field-checkbox' }, input, h('label', { for: fid }, label), hint ? h('p', { class: 'hint', id: hintId }, hint) : null, error)
    : h('div', { class: 'field' }, h('label', { for: fid }, label), hint ? h('p', { class: 'hint', id: hintId }, hint) : null, error, input);
  function setError(message) {
    if (message) {
      error.textContent = message;
      error.hidden = false;
      wrap.classList.add('field-invalid');
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', [...describedBy, errorId].join(' '));
    } else {
      error.textContent = '';
      error.hidden = true;
      wrap.classList.remove('field-invalid');
      input.removeAttribute('aria-invalid');
      if (describedBy.length) input.setAttribute('aria-describedby', describedBy.join(' '));
      else input.removeAttribute('aria-describedby');
    }
  }
  return { wrap, input, setError, id: fid };
}

/**
 * The error summary at the top of a form (GOV.UK pattern): a focused alert that links to each
 * field with a problem. `problems` is [{message, input}].
 */
export function errorSummary(container, title, problems) {
  if (!problems.length) {
    container.hidden = true;
    container.replaceChildren();
    return;
  }
  replace(container,
    h('h2', { class: 'error-summary-title' }, title),
    h('ul', {}, problems.map(({ message, input }) => h('li', {},
      input ? h('a', { href: `#${input.id}`, on: { click: (e) => { e.preventDefault(); input.focus(); } } }, message) : message))));
  container.hidden = false;
  container.focus();
}

/** A status message read out by screen readers (role=status) or an alert (role=alert). */
export function notice(kind, ...children) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

/** Triggers a file download of `text` (CSV, …) without a server round trip. */
export function download(filename, text, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
