import { describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { ConfigError, describeConfig, loadConfig } from '../../config/env';
import { rfc2253, subjectDnOfChain } from '../../activities/keycloak';
import { makeCert } from '../anchors/fixtures';

const secret = 'kc-admin-secret-value-that-must-never-be-printed';

describe('Keycloak configuration', () => {
  it('is off by default: the embedded authorization server', () => {
    const config = loadConfig({});
    expect(config.ADMIT_AUTHORIZATION_SERVER).toBe('embedded');
    expect(config.keycloak).toBeUndefined();
  });

  it('needs every ADMIT_KEYCLOAK_* variable once keycloak is chosen, and names them, not the secret', () => {
    let error: unknown;
    try {
      loadConfig({ ADMIT_AUTHORIZATION_SERVER: 'keycloak', ADMIT_KEYCLOAK_CLIENT_SECRET: secret });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const variable of ['ADMIT_KEYCLOAK_URL', 'ADMIT_KEYCLOAK_REALM', 'ADMIT_KEYCLOAK_CLIENT_ID']) expect(message).toContain(variable);
    expect(message).not.toContain('ADMIT_KEYCLOAK_CLIENT_SECRET');
    expect(message).not.toContain(secret);
    expect(() => loadConfig({ ADMIT_AUTHORIZATION_SERVER: 'okta' })).toThrow(/ADMIT_AUTHORIZATION_SERVER/);
  });

  it('reads the admin client, refuses plain http in production and a malformed realm, and never prints the secret', () => {
    const env = {
      ADMIT_AUTHORIZATION_SERVER: 'keycloak',
      ADMIT_KEYCLOAK_URL: 'https://keycloak.example',
      ADMIT_KEYCLOAK_REALM: 'partners',
      ADMIT_KEYCLOAK_CLIENT_ID: 'admit-provisioner',
      ADMIT_KEYCLOAK_CLIENT_SECRET: secret,
    };
    const config = loadConfig(env);
    expect(config.keycloak).toEqual({ url: 'https://keycloak.example', realm: 'partners', clientId: 'admit-provisioner', clientSecret: secret });
    expect(JSON.stringify(describeConfig(config))).not.toContain(secret);
    const production = {
      ...env,
      NODE_ENV: 'production',
      ADMIT_PAYLOAD_KEY: Buffer.alloc(32, 1).toString('base64'),
      ADMIT_LINK_SECRET: Buffer.alloc(32, 2).toString('base64'),
    };
    expect(() => loadConfig({ ...production, ADMIT_KEYCLOAK_URL: 'http://keycloak.example' })).toThrow(/ADMIT_KEYCLOAK_URL: must be https/);
    expect(loadConfig(production).keycloak?.url).toBe('https://keycloak.example');
    expect(() => loadConfig({ ...env, ADMIT_KEYCLOAK_REALM: 'a/b' })).toThrow(/ADMIT_KEYCLOAK_REALM/);
  });
});

function ava(type: string, value: AttributeValue): AttributeTypeAndValue {
  return new AttributeTypeAndValue({ type, value });
}

describe('RFC 2253 subject DNs for client-x509', () => {
  it('writes the most specific RDN first, as Java’s X500Principal.getName(RFC2253) does', async () => {
    const cert = await makeCert({ subject: 'C=GB, O=Partner Ltd, OU=Payments, CN=api.partner.example' });
    expect(subjectDnOfChain(cert.pem)).toBe('CN=api.partner.example,OU=Payments,O=Partner Ltd,C=GB');
  });

  it('escapes the special characters, leading # or space and a trailing space', () => {
    const name = new Name([
      new RelativeDistinguishedName([ava('2.5.4.6', new AttributeValue({ printableString: 'GB' }))]),
      new RelativeDistinguishedName([ava('2.5.4.10', new AttributeValue({ utf8String: 'Acme, Inc. <"EU">; A+B\\C' }))]),
      new RelativeDistinguishedName([ava('2.5.4.11', new AttributeValue({ utf8String: '#1 team ' }))]),
      new RelativeDistinguishedName([ava('2.5.4.3', new AttributeValue({ utf8String: ' padded' }))]),
    ]);
    expect(rfc2253(name)).toBe('CN=\\ padded,OU=\\#1 team\\ ,O=Acme\\, Inc. \\<\\"EU\\"\\>\\; A\\+B\\\\C,C=GB');
  });

  it('joins a multi-valued RDN with + and writes types without a keyword as OID=#hex of the value', () => {
    const email = new AttributeValue({ ia5String: 'ops@partner.example' });
    const name = new Name([
      new RelativeDistinguishedName([
        ava('2.5.4.11', new AttributeValue({ utf8String: 'Ops' })),
        ava('2.5.4.3', new AttributeValue({ utf8String: 'svc' })),
      ]),
      new RelativeDistinguishedName([ava('1.2.840.113549.1.9.1', email)]),
    ]);
    const hex = Buffer.from(AsnConvert.serialize(email)).toString('hex');
    expect(hex.startsWith('16')).toBe(true); // IA5String
    expect(rfc2253(name)).toBe(`1.2.840.113549.1.9.1=#${hex},OU=Ops+CN=svc`);
  });
});
