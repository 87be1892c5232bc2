/**
 * The building blocks of the contract's valibot schemas, and the one way an
 * issue becomes a message: `<field path> <what is wrong>`, for example
 * `render.thumbnail.quality must be a whole number from 1 to 100`.
 */
import * as v from 'valibot';

/** A closed range of whole numbers. */
export interface WholeRange {
  readonly min: number;
  readonly max: number;
}

/** What a range's values must be, in words (also the settings form's hint). */
export function rangeText(r: WholeRange): string {
  return `a whole number from ${r.min} to ${r.max}`;
}

/** A whole number inside `r`; every way of missing it gives the same message. */
export function whole(r: WholeRange, message = `must be ${rangeText(r)}`) {
  return v.pipe(
    v.number(message),
    v.integer(message),
    v.minValue(r.min, message),
    v.maxValue(r.max, message),
  );
}

/** A database id: a positive safe integer. */
export const id = v.pipe(
  v.number('must be a positive whole number'),
  v.safeInteger('must be a positive whole number'),
  v.minValue(1, 'must be a positive whole number'),
);

/** A count (or offset) of things: a non-negative safe integer. */
export const count = v.pipe(
  v.number('must be a whole number of 0 or more'),
  v.safeInteger('must be a whole number of 0 or more'),
  v.minValue(0, 'must be a whole number of 0 or more'),
);

export const bool = v.boolean('must be true or false');

/** One of a closed list of words. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return v.picklist(values, `must be one of ${values.join(', ')}`);
}

/** A path as the user gave it: not blank, no NUL byte, at most 4096 characters. */
export const path = v.pipe(
  v.string('must be a non-empty path'),
  v.check((s) => s.trim() !== '', 'must be a non-empty path'),
  v.maxLength(4096, 'must be a non-empty path'),
  v.check((s) => !s.includes('\0'), 'must be a non-empty path'),
);

const isPlainObject = (x: unknown): boolean =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

const objectMessage = (issue: v.StrictObjectIssue): string =>
  issue.expected === 'never'
    ? 'is not a known field'
    : issue.expected === 'Object'
      ? 'must be an object'
      : 'is missing';

/**
 * An object with exactly these fields: unknown fields are refused (so typos
 * surface), and so are arrays, which valibot's object schemas would accept.
 */
export function obj<const E extends v.ObjectEntries>(entries: E) {
  const schema = v.strictObject(entries, objectMessage);
  return v.pipe(v.custom<v.InferInput<typeof schema>>(isPlainObject, 'must be an object'), schema);
}

/** The same fields, each optional (a patch). */
export function optionalFields<const E extends v.ObjectEntries>(
  entries: E,
): { [K in keyof E]: v.OptionalSchema<E[K], undefined> } {
  return Object.fromEntries(
    Object.entries(entries).map(([k, schema]) => [k, v.optional(schema)]),
  ) as { [K in keyof E]: v.OptionalSchema<E[K], undefined> };
}

/** The readable form of the first issue: its field path, then what is wrong with it. */
export function issueText(
  issues: readonly [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]],
): string {
  const issue = issues[0];
  const at = v.getDotPath(issue);
  return at ? `${at} ${issue.message}` : issue.message;
}

/** Checks a value against a schema; null when it fits, else the readable problem. */
export function problemOf(schema: v.GenericSchema, value: unknown): string | null {
  const r = v.safeParse(schema, value, { abortEarly: true });
  return r.success ? null : issueText(r.issues);
}
