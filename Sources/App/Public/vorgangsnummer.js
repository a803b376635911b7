// The Vorgangsnummer pickupbox generates: ten symbols of an alphabet without look-alikes, the last a
// check symbol (Σ i·vᵢ ≡ 0 mod 29), printed in groups K7M-4XQ-9TR-C. Numbers taken over from the
// specialist software ("external" ones) have no fixed form and are shown as they are.

const ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXY';

/** "k7m-4xq 9tr-c" → "K7M4XQ9TRC" when it is a generated number with a valid check symbol, else null. */
export function compactVorgangsnummer(text) {
  const compact = String(text ?? '').replace(/[\s-]/g, '').toUpperCase();
  if (compact.length !== 10) return null;
  let sum = 0;
  for (let i = 0; i < 10; i += 1) {
    const value = ALPHABET.indexOf(compact[i]);
    if (value < 0) return null;
    sum += (i + 1) * value;
  }
  return sum % 29 === 0 ? compact : null;
}

/** A generated number grouped as on the letter (K7M-4XQ-9TR-C); any other number as given. */
export function displayVorgangsnummer(value) {
  const compact = compactVorgangsnummer(value);
  if (!compact) return String(value ?? '');
  return `${compact.slice(0, 3)}-${compact.slice(3, 6)}-${compact.slice(6, 9)}-${compact.slice(9)}`;
}
