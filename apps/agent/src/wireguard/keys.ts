import { generateKeyPairSync, createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KeyPair {
  /** base64, as `wg` prints and accepts keys. */
  privateKey: string;
  publicKey: string;
}

const fromBase64Url = (text: string): string => Buffer.from(text, 'base64url').toString('base64');

/** A fresh Curve25519 key pair; node's X25519 is the same curve WireGuard uses. */
export function generateKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  return keyPairFromPrivate(privateKey.export({ format: 'jwk' }).d ?? '');
}

function keyPairFromPrivate(dBase64Url: string): KeyPair {
  const d = Buffer.from(dBase64Url, 'base64url');
  if (d.length !== 32) throw new Error('WireGuard private key must be 32 bytes');
  const key = createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: d.toString('base64url'), x: '' },
    format: 'jwk',
  });
  const x = createPublicKey(key).export({ format: 'jwk' }).x ?? '';
  return { privateKey: d.toString('base64'), publicKey: fromBase64Url(x) };
}

/**
 * The last answer: every UAPI status read (each sync, scrape and health check) asks for the
 * device's own key, and OpenSSL's JWK import takes ~0.35 ms of CPU for a call between others
 * (measured here; 60 us in a tight loop). A rotation brings a new private key, hence a new entry.
 */
let lastPublicKey: { privateKeyBase64: string; publicKey: string } | undefined;

/** The public key belonging to a base64 private key, as `wg pubkey` computes it. */
export function publicKeyOf(privateKeyBase64: string): string {
  if (lastPublicKey?.privateKeyBase64 !== privateKeyBase64) {
    const publicKey = keyPairFromPrivate(
      Buffer.from(privateKeyBase64, 'base64').toString('base64url'),
    ).publicKey;
    lastPublicKey = { privateKeyBase64, publicKey };
  }
  return lastPublicKey.publicKey;
}

/** Atomically writes the private key file with mode 0600 (never readable by others, even briefly). */
export function writePrivateKey(path: string, privateKey: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${privateKey}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Loads the node's key, generating it only the first time: a restart must keep the same identity. */
export function loadOrCreateKeyPair(path: string): { keys: KeyPair; created: boolean } {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) {
    chmodSync(path, 0o600);
    return { keys: { privateKey: text, publicKey: publicKeyOf(text) }, created: false };
  }
  const keys = generateKeyPair();
  writePrivateKey(path, keys.privateKey);
  return { keys, created: true };
}
