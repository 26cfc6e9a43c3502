// The certificate for STARTTLS and the implicit-TLS port: the configured one, or a
// self-signed one made at start (development clients are told to accept it).
import { readFile } from 'node:fs/promises';
import { generate } from 'selfsigned';
import type { Config } from '../config.js';

export interface TlsMaterial {
  key: string;
  cert: string;
}

export async function loadTls(config: Pick<Config, 'tlsCert' | 'tlsKey' | 'hostname'>): Promise<TlsMaterial> {
  if (config.tlsCert && config.tlsKey) {
    const [cert, key] = await Promise.all([readFile(config.tlsCert, 'utf8'), readFile(config.tlsKey, 'utf8')]);
    return { cert, key };
  }
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: config.hostname }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 365 * 24 * 3600 * 1000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: config.hostname }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  return { key: pems.private, cert: pems.cert };
}
