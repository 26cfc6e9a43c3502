// A certificate authority made for one test run, and a server certificate it signs for 127.0.0.1 and
// localhost: clients are told to trust the CA and keep verification on, as a team with its own CA would.
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TestCa {
  dir: string;
  /** The CA certificate (PEM file), what clients are told to trust. */
  caFile: string;
  caPem: string;
  /** The server certificate and its key (PEM files), for MAILPEN_TLS_CERT and MAILPEN_TLS_KEY. */
  certFile: string;
  keyFile: string;
  remove(): Promise<void>;
}

export async function makeTestCa(): Promise<TestCa> {
  const now = new Date();
  const notAfterDate = new Date(now.getTime() + 24 * 3600 * 1000);
  const ca = await generate([{ name: 'commonName', value: 'Mailpen test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 3600 * 1000),
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 3600 * 1000),
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const dir = await mkdtemp(join(tmpdir(), 'mailpen-ca-'));
  const caFile = join(dir, 'ca.pem');
  const certFile = join(dir, 'server.pem');
  const keyFile = join(dir, 'server.key');
  await Promise.all([writeFile(caFile, ca.cert), writeFile(certFile, server.cert), writeFile(keyFile, server.private)]);
  return { dir, caFile, caPem: ca.cert, certFile, keyFile, remove: () => rm(dir, { recursive: true, force: true }) };
}
