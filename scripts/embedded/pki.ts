// The secure embedded broker's certificates, made on first use with the JDK's
// keytool (Java is needed for the broker anyway): a local CA, and a broker
// certificate for 127.0.0.1/localhost that it signs. Clients trust the CA's PEM;
// the broker (and the registry) use PKCS12 stores. Kept under .local, readable
// by this user only.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EmbeddedError, javaCommand } from './processes.ts';

export interface Pki {
  dir: string;
  /** The CA certificate clients trust (KAFKA_SSL_CA_FILE). */
  caPem: string;
  /** Broker key and certificate chain, PKCS12. */
  keystore: string;
  /** The CA alone, PKCS12, for Java clients (the registry) and mutual TLS. */
  truststore: string;
  password: string;
}

function keytool(args: string[]): string {
  const bin = path.join(path.dirname(javaCommand()), process.platform === 'win32' ? 'keytool.exe' : 'keytool');
  const res = spawnSync(fs.existsSync(bin) ? bin : 'keytool', args, { encoding: 'utf8' });
  if (res.error || res.status !== 0) throw new EmbeddedError(`keytool ${args[0]} failed: ${(res.stderr || res.stdout || String(res.error)).trim()}`);
  return res.stdout;
}

function layoutOf(dir: string): Omit<Pki, 'password'> {
  return { dir, caPem: path.join(dir, 'ca.pem'), keystore: path.join(dir, 'broker.p12'), truststore: path.join(dir, 'truststore.p12') };
}

/**
 * A CA and a certificate it signed for `subject` (CN), valid for 127.0.0.1 and
 * localhost, in dir; made if missing. Tests use a second one to prove clients
 * refuse a broker their CA did not sign.
 */
export function ensurePki(dir: string, subject = 'broker'): Pki {
  const files = layoutOf(dir);
  const passwordFile = path.join(dir, 'store-password');
  if (fs.existsSync(files.keystore) && fs.existsSync(files.truststore) && fs.existsSync(passwordFile)) {
    return { ...files, password: fs.readFileSync(passwordFile, 'utf8').trim() };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const password = crypto.randomBytes(18).toString('base64url');
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const caStore = path.join(dir, 'ca.p12');
  const store = (file: string) => ['-keystore', file, '-storetype', 'PKCS12', '-storepass', password];
  const csr = path.join(dir, 'broker.csr');
  const crt = path.join(dir, 'broker.crt');

  keytool(['-genkeypair', '-alias', 'ca', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-dname', `CN=commerce-core local CA ${path.basename(dir)}`, '-ext', 'bc:c', '-ext', 'KU=keyCertSign,cRLSign', ...store(caStore)]);
  keytool(['-exportcert', '-rfc', '-alias', 'ca', '-file', files.caPem, ...store(caStore)]);
  keytool(['-genkeypair', '-alias', 'broker', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '825', '-dname', `CN=${subject}`, ...store(files.keystore)]);
  keytool(['-certreq', '-alias', 'broker', '-file', csr, ...store(files.keystore)]);
  keytool([
    '-gencert', '-alias', 'ca', '-infile', csr, '-outfile', crt, '-rfc', '-validity', '825',
    '-ext', 'SAN=ip:127.0.0.1,dns:localhost', '-ext', 'KU=digitalSignature,keyEncipherment', '-ext', 'EKU=serverAuth,clientAuth',
    ...store(caStore),
  ]);
  // The chain: the CA first, so the signed certificate can be attached to the key.
  keytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', files.caPem, ...store(files.keystore)]);
  keytool(['-importcert', '-noprompt', '-alias', 'broker', '-file', crt, ...store(files.keystore)]);
  keytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', files.caPem, ...store(files.truststore)]);
  fs.rmSync(csr);
  return { ...files, password };
}
