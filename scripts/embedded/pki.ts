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
  keytool([
    '-gencert',
    '-alias',
    'ca',
    '-infile',
    csr,
    '-outfile',
    crt,
    '-rfc',
    '-validity',
    '825',
    '-ext',
    'SAN=ip:127.0.0.1,dns:localhost',
    '-ext',
    'KU=digitalSignature,keyEncipherment',
    '-ext',
    'EKU=serverAuth,clientAuth',
    ...store(caStore),
  ]);
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
  keytool([
    '-gencert',
    '-alias',
    'ca',
    '-infile',
    csr,
    '-outfile',
    certFile,
    '-rfc',
    '-validity',
    '825',
    '-ext',
    'SAN=ip:127.0.0.1,dns:localhost',
    '-ext',
    'KU=digitalSignature,keyEncipherment',
    '-ext',
    'EKU=serverAuth',
    '-keystore',
    path.join(pki.dir, 'ca.p12'),
    '-storetype',
    'PKCS12',
    '-storepass',
    pki.password,
  ]);
  fs.rmSync(csr);
  fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { certFile, keyFile };
}

/** One DER element: tag, length (short or long form, up to 64 KiB), contents. */
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  if (n > 0xffff) throw new Error('DER element too long');
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

/** A PKCS#10 request (RFC 2986) for CN=<commonName>, signed with SHA-256 and the RSA key: Node has no API for one. */
function certificateRequest(commonName: string, privateKey: crypto.KeyObject, publicKey: crypto.KeyObject): string {
  const [SEQUENCE, SET, UTF8_STRING, BIT_STRING] = [0x30, 0x31, 0x0c, 0x03];
  const commonNameOid = Buffer.from('0603550403', 'hex'); // 2.5.4.3
  const sha256WithRsa = der(SEQUENCE, Buffer.from('06092a864886f70d01010b0500', 'hex')); // 1.2.840.113549.1.1.11, NULL
  const subject = der(SEQUENCE, der(SET, der(SEQUENCE, commonNameOid, der(UTF8_STRING, Buffer.from(commonName)))));
  const version = Buffer.from('020100', 'hex');
  const noAttributes = Buffer.from('a000', 'hex');
  const info = der(SEQUENCE, version, subject, publicKey.export({ type: 'spki', format: 'der' }), noAttributes);
  const request = der(SEQUENCE, info, sha256WithRsa, der(BIT_STRING, Buffer.from([0]), crypto.sign('sha256', info, privateKey)));
  return `-----BEGIN CERTIFICATE REQUEST-----\n${(request.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}
