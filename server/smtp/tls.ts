// The certificate for STARTTLS and the implicit-TLS port: the configured one, or a
// self-signed one made at start (development clients are told to accept it). With neither
// STARTTLS nor the TLS port on (the default), none: the certificate library (selfsigned and
// pkijs, 17 MB of RSS) is not even loaded.
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { ConfigError, type Config } from '../config.js';

export interface TlsMaterial {
  key: string;
  cert: string;
}

export async function loadTls(config: Pick<Config, 'tlsCert' | 'tlsKey' | 'hostname' | 'smtpStartTls' | 'smtps'>): Promise<TlsMaterial | null> {
  if (config.tlsCert && config.tlsKey) {
    const read = (path: string, setting: string): Promise<string> =>
      readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new ConfigError(`${setting} "${path}" cannot be read: ${err.code ?? err.message}`);
      });
    // One after the other, so that when both are missing the answer is always about the certificate.
    const cert = await read(config.tlsCert, 'MAILPEN_TLS_CERT');
    const key = await read(config.tlsKey, 'MAILPEN_TLS_KEY');
    // Checked here, before anything listens, rather than by the first client's handshake.
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      throw new ConfigError(`MAILPEN_TLS_CERT and MAILPEN_TLS_KEY are not a PEM certificate and its private key: ${(err as Error).message}`);
    }
    return { cert, key };
  }
  if (config.smtpStartTls === 'off' && config.smtps === null) return null;
  const { generate } = await import('selfsigned');
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
