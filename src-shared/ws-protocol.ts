import type { ApiResult, AppEvent } from './api.ts';

/** Path of the browser host's WebSocket endpoint. */
export const WS_PATH = '/api';

/** Name of the cookie the browser host sets after a valid `?token=` visit. */
export const TOKEN_COOKIE = 'albumen_token';

/** A message from the renderer to the browser host. */
export interface WsCall {
  type: 'call';
  id: number;
  command: string;
  params: unknown;
}

/** A message from the browser host to the renderer. */
export type WsServerMessage =
  { type: 'result'; id: number; result: ApiResult<unknown> } | { type: 'event'; event: AppEvent };
