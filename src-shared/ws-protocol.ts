import * as v from 'valibot';
import type { ApiResult, AppEvent } from './api.ts';

/** Path of the browser host's WebSocket endpoint. */
export const WS_PATH = '/api';

/** Name of the cookie the browser host sets after a valid `?token=` visit. */
export const TOKEN_COOKIE = 'albumen_token';

/**
 * A message from the renderer to the browser host. Only its envelope is
 * checked here; the command and its parameters are the AppService's to check.
 */
export const WsCallSchema = v.object({
  type: v.literal('call'),
  id: v.number(),
  command: v.unknown(),
  params: v.unknown(),
});
export type WsCall = Omit<v.InferOutput<typeof WsCallSchema>, 'command'> & { command: string };

/** A message from the browser host to the renderer. */
export type WsServerMessage =
  { type: 'result'; id: number; result: ApiResult<unknown> } | { type: 'event'; event: AppEvent };
