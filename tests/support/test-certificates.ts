/**
 * TLS certificates for https fixtures, issued by the openssl CLI in a
 * temporary folder that is removed before returning: a throwaway certificate
 * authority, leaves it signs, and self-signed leaves nobody trusts. EC P-256
 * keys (fast to make), valid for a day.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  cert: string;
  key: string;
}

export interface TestCertificates {
  /** The authority's certificate, for a client to trust. */
  ca: string;
  /** By host name: leaves the authority signed. */
  signed: Record<string, TestCertificate>;
  /** By host name: leaves that sign themselves. */
  selfSigned: Record<string, TestCertificate>;
}

export function issueTestCertificates(hosts: { signed: string[]; selfSigned: string[] }): TestCertificates {
  const openssl = Bun.which("openssl");
  if (!openssl) throw new Error("the openssl CLI is needed to issue the https fixtures' certificates (apt-get install openssl)");
  const dir = mkdtempSync(join(tmpdir(), "qdz-certs-"));
  const run = (...args: string[]) => {
    const result = Bun.spawnSync([openssl, ...args], { cwd: dir, stdout: "ignore", stderr: "pipe" });
    if (!result.success) throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString()}`);
  };
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const read = (name: string): TestCertificate => ({
    cert: readFileSync(join(dir, `${name}.crt`), "utf8"),
    key: readFileSync(join(dir, `${name}.key`), "utf8"),
  });
  try {
    run(
      "req",
      "-x509",
      ...newKey,
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "1",
      "-subj",
      "/CN=QDZ test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign",
    );
    const signed = hosts.signed.map((host, i) => {
      const name = `signed-${i}`;
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=DNS:${host}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
      run("req", "-new", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${host}`);
      run(
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-set_serial",
        String(i + 1),
        "-days",
        "1",
        "-extfile",
        `${name}.ext`,
        "-out",
        `${name}.crt`,
      );
      return [host, read(name)] as const;
    });
    const selfSigned = hosts.selfSigned.map((host, i) => {
      const name = `self-${i}`;
      run(
        "req",
        "-x509",
        ...newKey,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.crt`,
        "-days",
        "1",
        "-subj",
        `/CN=${host}`,
        "-addext",
        `subjectAltName=DNS:${host}`,
      );
      return [host, read(name)] as const;
    });
    return { ca: read("ca").cert, signed: Object.fromEntries(signed), selfSigned: Object.fromEntries(selfSigned) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
