import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import type Provider from 'oidc-provider';
import type { GatewayToken } from '../config/env';
import { forwardToProvider } from './plugin';

export interface ServerTls {
  certPem: string;
  keyPem: string;
  /** The CA that issued the server certificate, for clients to trust (development only). */
  caPem?: string;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n-----END PRIVATE KEY-----\n`;
}

/**
 * A local CA and a server certificate for `localhost`, generated once into
 * `dir` (development: `$ADMIT_DATA_DIR/oauth-tls`). Partners' curl trusts the
 * CA file `ca.pem` (`--cacert`).
 */
export async function developmentServerTls(dir: string, hostnames: readonly string[] = ['localhost']): Promise<ServerTls> {
  const files = { cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key'), ca: path.join(dir, 'ca.pem') };
  try {
    const [certPem, keyPem, caPem] = await Promise.all([readFile(files.cert, 'utf8'), readFile(files.key, 'utf8'), readFile(files.ca, 'utf8')]);
    return { certPem, keyPem, caPem };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const now = Date.now();
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Admit development CA',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 5 * 365 * 24 * 3600_000),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const serverKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: `CN=${hostnames[0] ?? 'localhost'}`,
    issuer: ca.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * 24 * 3600_000),
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1'], false),
      new x509.SubjectAlternativeNameExtension(
        [...hostnames.map((h) => ({ type: 'dns' as const, value: h })), { type: 'ip', value: '127.0.0.1' }],
        false,
      ),
    ],
  });
  const tls = { certPem: server.toString('pem'), keyPem: await exportKeyPem(serverKeys.privateKey), caPem: ca.toString('pem') };
  await mkdir(dir, { recursive: true });
  await writeFile(files.key, tls.keyPem, { mode: 0o600 });
  await writeFile(files.cert, tls.certPem);
  await writeFile(files.ca, tls.caPem);
  return tls;
}

export interface MtlsListener {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * The HTTPS listener that asks every client for a certificate (RFC 8705):
 * the authorization server's token, introspection and revocation endpoints
 * for certificate-bound clients. Certificates that do not chain to
 * `clientCas` still reach the provider (self-signed TLS client auth pins
 * them), but only chained ones count as authorised for `tls_client_auth`.
 */
export async function startMtlsListener(options: {
  provider: Provider;
  gatewayTokens: readonly GatewayToken[];
  tls: ServerTls;
  clientCas: readonly string[];
  host: string;
  port: number;
}): Promise<MtlsListener> {
  const forward = forwardToProvider(options.provider, options.gatewayTokens);
  const server = createServer(
    {
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      ...(options.clientCas.length > 0 ? { ca: [...options.clientCas] } : {}),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    (req, res) => void forward(req, res),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://localhost:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
