/**
 * Checks of calls as they arrive from a UI, against the contract's schemas
 * (api.ts): the command must exist and its parameters must fit its schema.
 */
import * as v from 'valibot';
import {
  COMMAND_SCHEMAS,
  apiResultSchema,
  type ApiError,
  type CommandName,
  type CommandParams,
} from './api.ts';
import { issueText, problemOf } from './schema.ts';

/** True when `name` is a command of the contract. */
export function isCommand(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.hasOwn(COMMAND_SCHEMAS, name);
}

/** A well-formed call: the command and its parameters as the schema produced them. */
export interface ParsedCall<K extends CommandName = CommandName> {
  ok: true;
  command: K;
  params: CommandParams<K>;
}

/** A refused call: INVALID_INPUT naming the command and the field that is wrong. */
export type RefusedCall = { ok: false; error: ApiError };

function parseParams<K extends CommandName>(
  command: K,
  params: unknown,
): ParsedCall<K> | RefusedCall {
  // No parameters at all count as `{}` (a command without any may be sent bare).
  const r = v.safeParse(COMMAND_SCHEMAS[command].params, params ?? {}, { abortEarly: true });
  if (r.success) return { ok: true, command, params: r.output };
  return {
    ok: false,
    error: { code: 'INVALID_INPUT', message: `${command}: ${issueText(r.issues)}` },
  };
}

/**
 * Checks a command's name and parameters as they arrive from a UI. The
 * parameters handed on are the schema's output: a fresh object with only the
 * declared fields, never the caller's own object.
 */
export function parseCommand(name: unknown, params: unknown): ParsedCall | RefusedCall {
  if (!isCommand(name)) {
    return {
      ok: false,
      error: { code: 'INVALID_INPUT', message: `unknown command "${String(name)}"` },
    };
  }
  return parseParams(name, params);
}

/** The error to send back for a malformed call, or null when it is well-formed. */
export function validateCommand(name: unknown, params: unknown): ApiError | null {
  const r = parseCommand(name, params);
  return r.ok ? null : r.error;
}

/**
 * Checks a command's whole answer (`{ ok, value }` or `{ ok, error }`) against
 * the contract; null when it fits, else the problem. For tests and debugging:
 * the core's answers are typed, so production code need not pay for this.
 */
export function resultProblem(name: CommandName, result: unknown): string | null {
  return problemOf(apiResultSchema(COMMAND_SCHEMAS[name].result), result);
}
