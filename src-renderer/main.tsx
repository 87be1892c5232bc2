/**
 * Start-up: pick the bridge for where the page runs, subscribe the store to
 * the core's events (once, outside React), then render.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setBridge } from './api/bridge.ts';
import { createBridge } from './api/client.ts';
import { startEventPump } from './api/event-pump.ts';
import { App } from './app/App.tsx';
import { rememberedSelection } from './library/library-actions.ts';
import { useAppStore } from './store/index.ts';
import './styles/global.css';

const bridge = createBridge();
setBridge(bridge);
useAppStore.setState({ selectedCollectionId: rememberedSelection() });
startEventPump(bridge);

// Surprises in our own code are shown, not lost in the console.
window.addEventListener('error', (e) => {
  useAppStore
    .getState()
    .pushToast({ level: 'error', title: 'Unexpected error', message: String(e.message) });
});
window.addEventListener('unhandledrejection', (e) => {
  const reason: unknown = e.reason;
  useAppStore.getState().pushToast({
    level: 'error',
    title: 'Unexpected error',
    message: reason instanceof Error ? reason.message : String(reason),
  });
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
