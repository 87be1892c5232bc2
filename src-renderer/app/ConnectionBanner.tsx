import { useEffect, useState } from 'react';
import { getBridge } from '../api/bridge.ts';
import { useAppStore } from '../store/index.ts';

/** A banner while the browser host cannot be reached; gone once reconnected. */
export function ConnectionBanner() {
  const connection = useAppStore((s) => s.connection);
  const show =
    connection.state === 'closed' || (connection.state === 'connecting' && connection.attempt > 0);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!show) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [show]);
  if (!show) return null;
  const wait = connection.retryAt ? Math.max(0, Math.ceil((connection.retryAt - now) / 1000)) : 0;
  const retrying = connection.state === 'connecting' ? 'Reconnecting…' : `Retrying in ${wait} s.`;
  return (
    <div
      className={`connection-banner${connection.everOpened ? '' : ' error'}`}
      role="alert"
      data-testid="connection-banner"
    >
      <span>
        {connection.everOpened
          ? 'Lost connection to Albumen. Changes made now wait until it is back.'
          : 'Cannot reach Albumen. Open the address `albumen serve` printed: it carries the access token.'}{' '}
        {retrying}
        {connection.everOpened && connection.attempt >= 4 && (
          <> If Albumen was restarted, open the new address it printed.</>
        )}
      </span>
      {connection.state === 'closed' && (
        <button className="btn btn-small" onClick={() => getBridge().retryConnection()}>
          Retry now
        </button>
      )}
    </div>
  );
}
