// The secure embedded broker's certificates, made on first use with the JDK's
// keytool (Java is needed for the broker anyway): a local CA, and a broker
// certificate for 127.0.0.1/localhost that it signs. Clients trust the CA's PEM;
// the broker (and the registry) use PKCS12 stores. Kept under .local, readable
// by this user only. The same CA signs the services' HTTPS certificate
// (ensureServerCertificate), so one PEM is all a local client trusts.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
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

/** The CA signs a certificate request: 825 days, for 127.0.0.1 and localhost, for these extended key usages. */
function signWithCa(caStore: string, password: string, csr: string, out: string, extendedKeyUsage: string): void {
  keytool([
    '-gencert',
    '-alias',
    'ca',
    '-infile',
    csr,
    '-outfile',
    out,
    '-rfc',
    '-validity',
    '825',
    '-ext',
    'SAN=ip:127.0.0.1,dns:localhost',
    '-ext',
    'KU=digitalSignature,keyEncipherment',
    '-ext',
    `EKU=${extendedKeyUsage}`,
    '-keystore',
    caStore,
    '-storetype',
    'PKCS12',
    '-storepass',
    password,
  ]);
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

  keytool([
    '-genkeypair',
    '-alias',
    'ca',
    '-keyalg',
    'RSA',
    '-keysize',
    '2048',
    '-validity',
    '3650',
    '-dname',
    `CN=commerce-core local CA ${path.basename(dir)}`,
    '-ext',
    'bc:c',
    '-ext',
    'KU=keyCertSign,cRLSign',
    ...store(caStore),
  ]);
  keytool(['-exportcert', '-rfc', '-alias', 'ca', '-file', files.caPem, ...store(caStore)]);
  keytool(['-genkeypair', '-alias', 'broker', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '825', '-dname', `CN=${subject}`, ...store(files.keystore)]);
  keytool(['-certreq', '-alias', 'broker', '-file', csr, ...store(files.keystore)]);
  signWithCa(caStore, password, csr, crt, 'serverAuth,clientAuth');
  // The chain: the CA first, so the signed certificate can be attached to the key.
  keytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', files.caPem, ...store(files.keystore)]);
  keytool(['-importcert', '-noprompt', '-alias', 'broker', '-file', crt, ...store(files.keystore)]);
  keytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', files.caPem, ...store(files.truststore)]);
  fs.rmSync(csr);
  return { ...files, password };
}

export interface ServerCertificate {
  /** PEM certificate the PKI's CA signed, for 127.0.0.1 and localhost (HTTP_TLS_CERT_FILE). */
  certFile: string;
  /** Its PEM private key, readable by this user only (HTTP_TLS_KEY_FILE). */
  keyFile: string;
}

/**
 * A key and a server certificate the PKI's CA signs for it, in the PKI's
 * directory as <name>.pem and <name>-key.pem; made if missing or expired.
 * keytool cannot hand out a private key as PEM, which Node's TLS wants, so
 * Node makes the key and its signing request and keytool only signs.
 */
export function ensureServerCertificate(pki: Pki, name: string): ServerCertificate {
  const certFile = path.join(pki.dir, `${name}.pem`);
  const keyFile = path.join(pki.dir, `${name}-key.pem`);
  if (fs.existsSync(certFile) && fs.existsSync(keyFile) && Date.parse(new crypto.X509Certificate(fs.readFileSync(certFile)).validTo) > Date.now() + 86_400_000) {
    return { certFile, keyFile };
  }
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const csr = path.join(pki.dir, `${name}.csr`);
  fs.writeFileSync(csr, certificateRequest(`commerce-core ${name}`, privateKey, publicKey));
  signWithCa(path.join(pki.dir, 'ca.p12'), pki.password, csr, certFile, 'serverAuth');
  fs.rmSync(csr);
  fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { certFile, keyFile };
}

/** A PKCS#10 request for CN=<commonName>, signed with SHA-256 (node-forge: Node has no API for one). */
function certificateRequest(commonName: string, privateKey: crypto.KeyObject, publicKey: crypto.KeyObject): string {
  const request = forge.pki.createCertificationRequest();
  request.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  request.setSubject([{ name: 'commonName', value: commonName }]);
  request.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(request);
}
