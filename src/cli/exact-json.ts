import { CliError } from "./exit-codes.js";

/** A JSON number token: sign, integer digits, fraction digits, exponent. */
const NUMBER = /-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?/y;
/** What `String(number)` prints, `1e+21` and `5e-324` included. */
const PRINTED = /^-?(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/;

/**
 * The exact decimal value of a number's digits, in one form for all ways of
 * writing it (`1.0`, `1`, `10e-1` and `0.1e1` alike): its significant digits
 * and the power of ten of the last; every zero is `0` (`-0` reads back as 0).
 */
function decimal(negative: boolean, integer: string, fraction: string, exponent: string): string {
  let digits = (integer + fraction).replace(/^0+/, "");
  if (digits === "") return "0";
  let power = Number(exponent) - fraction.length;
  const kept = digits.replace(/0+$/, "");
  power += digits.length - kept.length;
  digits = kept;
  return `${negative ? "-" : ""}${digits}e${power}`;
}

/**
 * Refuses JSON text that `JSON.parse` reads into something else than what it
 * says, so that nothing is stored altered: a key given twice in one object
 * (the parser keeps the last), and a number that prints back as another
 * (`9007199254740993` is the double `9007199254740992`;
 * `1.00000000000000000001` is 1; `1e-400` is 0). Numbers a double holds as
 * written, or nearest as printed (`0.1`, `1.0`, `1e2`), pass; so does `-0`,
 * which reads back as 0. `text` is JSON that `JSON.parse` accepted; `at` names
 * the place of an offset into it for the message.
 *
 * @example
 * checkExactJson('{"n": 12345678901234567890}', (o) => `input at ${o}`) // throws: the number ... would be stored as 12345678901234567000
 */
export function checkExactJson(text: string, at: (offset: number) => string): void {
  // The key sets of the objects open around the scan, innermost last; null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: find its end, skipping escapes.
      let end = i + 1;
      while (text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const keys = open[open.length - 1] as Set<string>;
        if (keys.has(key)) {
          throw new CliError(
            `${at(i)}: the key ${JSON.stringify(key)} is given twice in one object (JSON keeps the last); refused rather than dropped`,
          );
        }
        keys.add(key);
        expectKey = false;
      }
      i = end + 1;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text) as RegExpExecArray;
      const written = m[0];
      const value = Number(written);
      if (Number.isFinite(value)) {
        const printed = String(value);
        const p = PRINTED.exec(printed) as RegExpExecArray;
        const before = decimal(c === 0x2d, m[1] as string, m[2] ?? "", m[3] ?? "0");
        const after = decimal(value < 0, p[1] as string, p[2] ?? "", p[3] ?? "0");
        if (before !== after) {
          throw new CliError(
            `${at(i)}: the number ${written} would be stored as ${printed} (a JSON number here is a double: ` +
              "integers up to 2^53, about 16 significant digits); write it as a string to keep it",
          );
        }
      }
      // Too big for a double: the store refuses it, naming the field.
      i += written.length;
    } else {
      if (c === 0x7b) {
        open.push(new Set());
        expectKey = true;
      } else if (c === 0x5b) {
        open.push(null);
      } else if (c === 0x7d || c === 0x5d) {
        open.pop();
      } else if (c === 0x2c) {
        expectKey = open[open.length - 1] !== null && open.length > 0;
      }
      i++;
    }
  }
}
