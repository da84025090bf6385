/** Password hashing (scrypt) and HS256 JWTs with node:crypto: enough for the sample service. */
import { createHmac, randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  // Small scrypt cost: the smoke suite registers users on every run and should stay fast.
  const hash = scryptSync(password, salt, 32, { N: 1024 });
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = scryptSync(password, Buffer.from(salt, 'base64url'), expected.length, { N: 1024 });
  return timingSafeEqual(expected, actual);
}

export interface TokenClaims {
  sub: string;
  username: string;
  jti: string;
  iat: number;
  exp: number;
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signToken(claims: { sub: string; username: string }, secret: string, ttlSeconds = 3600): TokenClaims & { token: string } {
  const iat = Math.floor(Date.now() / 1000);
  const full: TokenClaims = { ...claims, jti: randomUUID(), iat, exp: iat + ttlSeconds };
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(full)}`;
  const sig = createHmac('sha256', secret).update(body).digest('base64url');
  return { ...full, token: `${body}.${sig}` };
}

/** The claims of a valid, unexpired token; undefined otherwise. */
export function verifyToken(token: string, secret: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, sig] = parts as [string, string, string];
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as TokenClaims;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return undefined;
    return claims;
  } catch {
    return undefined;
  }
}
