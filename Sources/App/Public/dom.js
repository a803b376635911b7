// Building the DOM without innerHTML: every piece of text becomes a text node, so nothing the
// server or the user sends can turn into markup. Also the form parts every page shares: fields,
// radio groups, the error summary, a form's problems, status messages and an inline confirm step.

import { ts, errorText } from './i18n.js';

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
 * Radio buttons in a fieldset, the legend being the question: {wrap, inputs, input (the checked or
 * first radio, for the error summary's link), value(), set(value), setError(message)}. `options` is
 * [[value, label, hint?]]. Hints and the error are tied to every radio (aria-describedby), and an
 * error marks each one invalid, so a screen reader hears them on whichever radio it lands.
 */
export function radios({ legend, name, options, value, hint }) {
  const base = id(name);
  const hintId = hint ? `${base}-hint` : null;
  const errorId = `${base}-error`;
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const items = options.map(([v, label, optionHint], i) => {
    const rid = `${base}-${i}`;
    const input = h('input', { type: 'radio', id: rid, name, value: v, checked: v === value });
    const ids = [optionHint ? `${rid}-hint` : null, hintId].filter(Boolean);
    return { input, ids, wrap: h('div', { class: 'radio' }, input, h('label', { for: rid }, label),
      optionHint ? h('p', { class: 'hint', id: `${rid}-hint` }, optionHint) : null) };
  });
  const inputs = items.map((item) => item.input);
  function describe(invalid) {
    for (const { input, ids } of items) {
      const all = invalid ? [...ids, errorId] : ids;
      if (all.length) input.setAttribute('aria-describedby', all.join(' ')); else input.removeAttribute('aria-describedby');
      if (invalid) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    }
  }
  describe(false);
  const wrap = h('fieldset', { class: 'field radio-group' }, h('legend', {}, legend),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null, error, items.map((item) => item.wrap));
  return {
    wrap,
    inputs,
    get input() { return inputs.find((r) => r.checked) || inputs[0]; },
    value: () => inputs.find((r) => r.checked)?.value ?? null,
    set(v) { for (const r of inputs) r.checked = r.value === v; },
    setError(message) {
      error.textContent = message || '';
      error.hidden = !message;
      wrap.classList.toggle('field-invalid', Boolean(message));
      describe(Boolean(message));
    },
  };
}

/**
 * The error summary at the top of a form (GOV.UK pattern), focused so that it is read out:
 * `problems` ([{message, input}]) links each message to its field; without `problems` only `title`
 * is shown (a problem that belongs to no field). An empty list hides the summary.
 */
export function errorSummary(container, title, problems) {
  if (problems ? !problems.length : !title) {
    container.hidden = true;
    container.replaceChildren();
    return;
  }
  replace(container,
    h('h2', { class: 'error-summary-title' }, title),
    problems ? h('ul', {}, problems.map(({ message, input }) => h('li', {},
      input ? h('a', { href: `#${input.id}`, on: { click: (e) => { e.preventDefault(); input.focus(); } } }, message) : message))) : null);
  container.hidden = false;
  container.focus();
}

/**
 * The problems of one form: `summary` (put it at the top of the form) and the messages at the fields.
 * show([{message, field}]) with `field` anything with `input` and `setError` (field(), radios());
 * fromApi(e, resolve, vars) puts an API error at the field `resolve(e.field)` names, or alone in the
 * summary. `codes` are the page's own texts for error codes (see errorText).
 */
export function formProblems({ codes } = {}) {
  const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
  let marked = [];
  function clear() {
    for (const f of marked) f.setError(null);
    marked = [];
    errorSummary(summary, '', []);
  }
  function show(list) {
    clear();
    for (const p of list) {
      if (p.field && !marked.includes(p.field)) { p.field.setError(p.message); marked.push(p.field); }
    }
    errorSummary(summary, ts('common.errorSummary'), list.map((p) => ({ message: p.message, input: p.field?.input })));
  }
  function fromApi(e, resolve = () => null, vars = {}) {
    const message = errorText(e, { codes, vars });
    const target = e?.field ? resolve(e.field) : null;
    if (target) show([{ message, field: target }]);
    else { clear(); errorSummary(summary, message); }
  }
  return { summary, clear, show, fromApi };
}

/** A status message read out by screen readers (role=status) or an alert (role=alert). */
export function notice(kind, ...children) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

/** A status line that exists before anything is said in it, so that screen readers hear each message. */
export function statusArea() {
  const el = h('div', { class: 'status-area', role: 'status' });
  return {
    el,
    say(kind, ...children) {
      const box = h('div', { class: `notice notice-${kind}`, tabindex: '-1' }, h('p', {}, ...children));
      replace(el, box);
      // The button that was pressed may be gone (the list was redrawn): keep keyboard users here.
      if (!document.activeElement || document.activeElement === document.body) box.focus();
    },
    clear() { el.replaceChildren(); },
  };
}

/**
 * An inline confirm step instead of window.confirm: `question` with a confirm and an "Abbrechen"
 * button in `container`; resolves true or false. The focus moves to the question, and back to where
 * it was when the answer is no.
 */
export function confirmStep(container, { question, detail, confirm, danger = true }) {
  const returnTo = document.activeElement;
  return new Promise((resolve) => {
    const done = (answer) => {
      container.replaceChildren();
      container.hidden = true;
      if (!answer && returnTo?.isConnected) returnTo.focus();
      resolve(answer);
    };
    const heading = h('p', { class: 'confirm-question', tabindex: '-1' }, question);
    replace(container, h('div', { class: 'confirm-step', role: 'group', 'aria-label': question },
      heading,
      detail ? h('p', {}, detail) : null,
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: danger ? 'button danger' : 'button', on: { click: () => done(true) } }, confirm),
        h('button', { type: 'button', class: 'button secondary', on: { click: () => done(false) } }, ts('common.cancel')))));
    container.hidden = false;
    heading.focus();
  });
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
