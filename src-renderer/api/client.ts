/**
 * The renderer's one way to reach the core: an AppBridge over the Electron
 * preload (`window.albumen`) or over the browser host's WebSocket. Nothing
 * else in the renderer knows which one it talks to.
 */
import {
  MEDIA_SCHEME,
  mediaPath,
  type ApiResult,
  type AppApi,
  type AppBridge,
  type CommandName,
  type CommandParams,
  type CommandValue,
  type PreloadApi,
} from '../../src-shared/api.ts';
import { WS_PATH } from '../../src-shared/ws-protocol.ts';
import { WsClient, type ConnectionStatus } from './ws-client.ts';

export type { ConnectionStatus } from './ws-client.ts';

/** AppBridge plus the state of its transport (always open in Electron). */
export interface ClientBridge extends AppBridge {
  readonly connection: ConnectionStatus;
  onConnection(listener: (s: ConnectionStatus) => void): () => void;
  /** Reconnects now where the transport can (browser); a no-op in Electron. */
  retryConnection(): void;
}

const ALWAYS_OPEN: ConnectionStatus = {
  state: 'open',
  everOpened: true,
  attempt: 0,
  retryAt: null,
};

/** The media URL inside the desktop app: `albumen-media://<kind>/<id>?v=…`. */
export function electronMediaUrl(...args: Parameters<typeof mediaPath>): string {
  return `${MEDIA_SCHEME}://${mediaPath(...args).slice(1)}`;
}

/** The media URL on the browser host: `/media/<kind>/<id>?v=…`, same origin as the page. */
export function browserMediaUrl(...args: Parameters<typeof mediaPath>): string {
  return `/media${mediaPath(...args)}`;
}

/** The WebSocket URL of the host that served the page. */
export function wsUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${WS_PATH}`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A bridge over the Electron preload's object. */
export function electronBridge(api: PreloadApi): ClientBridge {
  // The commands alone, as the contract's mapped type (so each one's types follow its name).
  const commands: AppApi = api;
  return {
    platform: 'electron',
    connection: ALWAYS_OPEN,
    async call<K extends CommandName>(
      command: K,
      params: CommandParams<K>,
    ): Promise<ApiResult<CommandValue<K>>> {
      try {
        return await commands[command](params);
      } catch (err) {
        // An IPC failure (the main process threw or went away), not a command's answer.
        return {
          ok: false,
          error: { code: 'INTERNAL', message: `${command}: ${errorMessage(err)}` },
        };
      }
    },
    onEvent: (listener) => api.onEvent(listener),
    mediaUrl: electronMediaUrl,
    pathForFile: (file) => (file instanceof File ? api.pathForFile(file) || null : null),
    onConnection: () => () => {},
    retryConnection: () => {},
  };
}

/** A bridge over the browser host's WebSocket (same origin; the host's cookie authorises it). */
export function browserBridge(loc: { protocol: string; host: string }): ClientBridge {
  const client = new WsClient({
    url: wsUrl(loc),
    createSocket: (url) => new WebSocket(url),
  });
  client.start();
  return {
    platform: 'browser',
    get connection() {
      return client.status;
    },
    call: <K extends CommandName>(command: K, params: CommandParams<K>) =>
      client.call(command, params) as Promise<ApiResult<CommandValue<K>>>,
    onEvent: (listener) => client.onEvent(listener),
    mediaUrl: browserMediaUrl,
    // A browser never learns where a dropped file lives.
    pathForFile: () => null,
    onConnection: (listener) => client.onStatus(listener),
    retryConnection: () => client.retryNow(),
  };
}

/** The bridge for where the page runs: the preload's in Electron, else the WebSocket. */
export function createBridge(): ClientBridge {
  return window.albumen ? electronBridge(window.albumen) : browserBridge(window.location);
}
