import type { Health } from '@parley/protocol';

// Colour, shape and word all say the same thing: the lamp must read in greyscale and to a screen reader.
const LAMP: Record<Health, { symbol: string; label: string; help: string }> = {
  up: { symbol: '●', label: 'Up', help: 'the peer station answers heartbeats' },
  degraded: { symbol: '◐', label: 'Degraded', help: 'heartbeats are late or items are waiting to be delivered' },
  down: { symbol: '○', label: 'Down', help: 'the peer station has not answered for a while' },
};

export function HealthLamp({ health }: { health: Health }) {
  const l = LAMP[health];
  return (
    <span className={`lamp lamp-${health}`} title={l.help} data-health={health}>
      <span className="lamp-symbol" aria-hidden="true">
        {l.symbol}
      </span>
      <span className="lamp-label">
        <span className="visually-hidden">Line health: </span>
        {l.label}
      </span>
    </span>
  );
}
