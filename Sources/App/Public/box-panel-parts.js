// Pieces of the box panel's screen: the on-screen keypad (the inputs work with a keyboard too) and
// the compartment with its door, which swings open with a CSS transition (none when the user
// prefers reduced motion; see box-panel.css).

import { h } from './dom.js';

/**
 * A 3×4 keypad that types into `input`: digits, an optional extra key (`+` for phone numbers,
 * `.` for dates) and a delete key. Keeps to the input's maxlength and tells it about each change.
 */
export function keypad(input, { extra = '', label, deleteLabel }) {
  const type = (key) => {
    const max = Number(input.getAttribute('maxlength')) || Infinity;
    if (key === 'delete') input.value = input.value.slice(0, -1);
    else if (input.value.length < max) input.value += key;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  };
  const key = (value, content, className) => h('button', { type: 'button', class: ['bp-key', className], on: { click: () => type(value) } }, content);
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => key(d, d));
  keys.push(extra ? key(extra, extra, 'bp-key-extra') : h('span', { class: 'bp-key-gap', 'aria-hidden': 'true' }));
  keys.push(key('0', '0'));
  keys.push(key('delete', [h('span', { 'aria-hidden': 'true' }, '⌫'), h('span', { class: 'visually-hidden' }, deleteLabel)], 'bp-key-delete'));
  return h('div', { class: 'bp-keypad', role: 'group', 'aria-label': label }, keys);
}

/**
 * A compartment of the box with its number on the door. open()/close() swing the door;
 * empty() takes the document out, fill() puts one in. Decorative: the screen says it in words.
 */
export function compartment(number, { withDocument = true, open = false } = {}) {
  const doc = h('span', { class: 'bp-doc', hidden: !withDocument });
  const el = h('div', { class: ['bp-compartment', open && 'open'], 'aria-hidden': 'true' },
    h('div', { class: 'bp-compartment-inside' }, doc),
    h('div', { class: 'bp-door' }, h('span', { class: 'bp-door-number' }, String(number))));
  // Two frames: the closed door is drawn first, so the change to open is animated.
  const later = (fn) => requestAnimationFrame(() => requestAnimationFrame(fn));
  return {
    el,
    open: () => later(() => el.classList.add('open')),
    close: () => el.classList.remove('open'),
    empty: () => { doc.hidden = true; },
    fill: () => { doc.hidden = false; },
  };
}

/** Waits for a door's swing (about as long as the CSS transition), or not at all with reduced motion. */
export function doorPause() {
  const reduced = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
  return new Promise((resolve) => setTimeout(resolve, reduced ? 0 : 700));
}
