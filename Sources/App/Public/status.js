// The status page's typing aid (progressive enhancement: the form works without it).
//
// While typing, a would-be generated Vorgangsnummer is shown in groups, K7M-4XQ-9TR-C, in upper
// case. The group marks are non-breaking hyphens (U+2011) that only this script writes: what the
// person typed (spaces and hyphens included) stays exactly as typed underneath, so the authority's
// own number formats (^[A-Z0-9][A-Z0-9./-]{3,39}$) are sent as they are.
//
// On submit, a number that looks generated is checked before asking the server (Σ i·vᵢ ≡ 0 mod 29:
// compactVorgangsnummer from vorgangsnummer.js, the app's copy of Sources/Domain/Vorgangsnummer.swift).
// A typo, a look-alike character or a wrong length is explained at the field with the form's
// data-typo-* texts (rendered by the server in the page's language) and not sent. Submitting the
// same text again sends it anyway: the server has the last word, and an authority's own number may
// look like a mistyped generated one.

import { compactVorgangsnummer } from './vorgangsnummer.js';

// The symbols of a generated number (vorgangsnummer.js has the same): for grouping while typing and
// for telling a look-alike (0, O, 1, I, L, U, Z) from a typo.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXY';
const MARK = '\u2011';
// What people type or paste between groups: blanks, hyphens and Unicode dashes.
const SEPARATOR = /[\s\u2010\u2012-\u2015\u2212-]/;
const SEPARATORS = new RegExp(SEPARATOR.source, 'g');

const form = document.querySelector('form.lookup');
const input = form && form.querySelector('#vn');
const error = form && form.querySelector('#vn-error');
if (input && error) enhance();

/** The text without our group marks, ASCII letters in upper case (the same length as typed). */
function typed(value) {
  return value.split(MARK).join('').replace(/[a-z]+/g, (s) => s.toUpperCase());
}

/** `text` with group marks after the 3rd, 6th and 9th symbol, or unchanged when it is not a
 *  generated number in the making (other characters, more than 10 symbols, blanks elsewhere). */
function group(text) {
  let out = '';
  let n = 0;
  let separatorAfter = -1;
  for (const ch of text) {
    if (SEPARATOR.test(ch)) {
      if (n === 0 || n % 3 !== 0 || n > 9 || separatorAfter === n) return text;
      separatorAfter = n;
    } else {
      if (!ALPHABET.includes(ch) || n === 10) return text;
      if (n > 0 && n % 3 === 0 && separatorAfter !== n) out += MARK;
      n += 1;
    }
    out += ch;
  }
  return out;
}

const inAlphabet = (symbols) => [...symbols].every((ch) => ALPHABET.includes(ch));

/** What is wrong with the symbols of a would-be generated number: null, or [data attribute, count]. */
function problem(symbols) {
  if (/^[A-Z0-9]{10}$/.test(symbols)) {
    if (!inAlphabet(symbols)) return ['typoLookAlike'];
    return compactVorgangsnummer(symbols) ? null : ['typoCheck'];
  }
  if (/^[A-Z0-9]{8,12}$/.test(symbols) && inAlphabet(symbols)) return ['typoLength', symbols.length];
  return null;
}

function enhance() {
  const field = input.closest('.field');
  const describedBy = input.getAttribute('aria-describedby') || '';
  let insisted = null;   // the text that was explained once and is sent if submitted again
  let last = typed(input.value);

  // Rewrites the field with group marks, keeping the caret after the same typed character.
  function format(deleting) {
    const value = input.value;
    const caret = input.selectionStart ?? value.length;
    let text = typed(value);
    let before = typed(value.slice(0, caret)).length;
    // Backspace or Delete on a group mark removes the symbol beside it, as people expect.
    if (deleting && text === last) {
      if (deleting === 'back' && before > 0) { text = text.slice(0, before - 1) + text.slice(before); before -= 1; }
      if (deleting === 'forward' && before < text.length) text = text.slice(0, before) + text.slice(before + 1);
    }
    const out = group(text);
    last = text;
    if (out === value) return;
    input.value = out;
    if (document.activeElement !== input) return;
    let position = 0;
    for (let seen = 0; seen < before && position < out.length; position += 1) if (out[position] !== MARK) seen += 1;
    input.setSelectionRange(position, position);
  }

  function showError(message) {
    error.textContent = message;
    error.setAttribute('role', 'alert');
    error.hidden = false;
    if (field) field.classList.add('field-invalid');
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', `${describedBy} vn-error`.trim());
    input.focus();
  }

  function clearError() {
    error.hidden = true;
    error.textContent = '';
    if (field) field.classList.remove('field-invalid');
    input.removeAttribute('aria-invalid');
    if (describedBy) input.setAttribute('aria-describedby', describedBy);
  }

  input.addEventListener('input', (event) => {
    if (event.isComposing) return;
    const kind = event.inputType === 'deleteContentBackward' ? 'back' : event.inputType === 'deleteContentForward' ? 'forward' : null;
    format(kind);
  });
  input.addEventListener('compositionend', () => format(null));

  form.addEventListener('submit', (event) => {
    const text = typed(input.value).trim();
    const symbols = text.replace(SEPARATORS, '');
    const found = problem(symbols);
    if (found && text !== insisted) {
      event.preventDefault();
      insisted = text;
      const [name, count] = found;
      showError((form.dataset[name] || '').replace('{count}', String(count)));
      return;
    }
    clearError();
    // A valid generated number goes compact, as in the letter's QR code; anything else as typed.
    input.value = compactVorgangsnummer(symbols) ?? text;
  });

  // Coming back (back button, page cache): show the groups again.
  window.addEventListener('pageshow', () => { last = typed(input.value); format(null); });
  format(null);
}
