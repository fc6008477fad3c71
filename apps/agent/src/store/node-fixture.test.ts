// Test fixture (no tests of its own): node records as the lab would register them.
import type { NodeRecord } from './types.js';

export const nodeRecord = (name: string, n: number): NodeRecord => ({
  name,
  underlayIP: `10.77.0.${10 + n}`,
  podCIDR: `10.244.${n}.0/24`,
  wireguardPublicKey: `key-${name}`,
  wireguardPort: 51871,
});
