// Money arrives in integer minor units with an ISO 4217 currency; it is shown with that
// currency's own number of decimals (2 for EUR, 0 for JPY, 3 for KWD) and never goes through
// floating point on the way: the decimal string is built from the integer.

const digitsOf = new Map();

/** The number of decimals `currency` uses. */
export function decimals(currency) {
  if (!digitsOf.has(currency)) {
    let d = 2;
    try {
      d = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
    } catch {
      // An unknown code: two decimals, the common case.
    }
    digitsOf.set(currency, d);
  }
  return digitsOf.get(currency);
}

/** "12.50" for 1250 minor units of a 2-decimal currency. */
export function majorString(minor, currency) {
  const d = decimals(currency);
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(d + 1, "0");
  const whole = digits.slice(0, digits.length - d);
  const fraction = d ? `.${digits.slice(digits.length - d)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** `{ minor, currency }` as a person reads it: "€12.50". */
export function formatMoney(money) {
  if (!money) return "";
  const d = decimals(money.currency);
  try {
    return new Intl.NumberFormat("en", {
      style: "currency",
      currency: money.currency,
      minimumFractionDigits: d,
      maximumFractionDigits: d,
    }).format(majorString(money.minor, money.currency));
  } catch {
    return `${majorString(money.minor, money.currency)} ${money.currency}`;
  }
}

/**
 * Minor units from what a person typed ("12.5" → 1250 for EUR); null when it is not an
 * amount with at most the currency's decimals.
 */
export function parseMajor(text, currency) {
  const t = String(text).trim();
  const d = decimals(currency);
  const m = /^(\d+)(?:\.(\d*))?$/.exec(t);
  if (!m) return null;
  const fraction = m[2] || "";
  if (fraction.length > d) return null;
  const minor = Number(m[1] + fraction.padEnd(d, "0"));
  return Number.isSafeInteger(minor) ? minor : null;
}
