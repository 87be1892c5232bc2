/**
 * The bridge the running app uses, set once at start-up (main.tsx) so that
 * actions outside React can reach the core without threading it through props.
 */
import type { ClientBridge } from './client.ts';

let current: ClientBridge | null = null;

export function setBridge(bridge: ClientBridge): void {
  current = bridge;
}

export function getBridge(): ClientBridge {
  if (!current) throw new Error('the API bridge is not set up yet');
  return current;
}
