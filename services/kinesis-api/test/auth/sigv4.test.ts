import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { canonicalPath, canonicalQuery, formatAmzDate, parseAmzDate, parseAuthorization, verifySigV4, type SignedRequest } from '../../src/auth/sigv4';
import { kinesisErrorOf } from '../kinesis-error';

const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const credentials = new Map([[AKID, SECRET]]);
const SUITE_TIME = Date.UTC(2015, 7, 30, 12, 36, 0);

/** A request of AWS's SigV4 test suite (service `service`, us-east-1, 2015-08-30T12:36:00Z) with its published signature. */
function suiteRequest(method: string, query: string, signature: string): SignedRequest {
  return {
    method,
    path: '/',
    query,
    body: Buffer.alloc(0),
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    },
  };
}

/** node:crypto as the Checksum the smithy signer wants. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', Buffer.from(secret as Uint8Array));
  }
  update(data: Uint8Array | string): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {}
}

/** A Kinesis request signed by the AWS SDK's own signer, as the service receives it (lower-case headers). */
async function sdkSigned(
  body: string,
  options: { at?: Date; secret?: string; akid?: string; region?: string; service?: string; headers?: Record<string, string>; http2?: boolean } = {},
): Promise<SignedRequest> {
  // Over HTTP/2 the SDK sends (and signs) the host as the :authority pseudo-header.
  const host: Record<string, string> = options.http2 ? { ':authority': '127.0.0.1:4566' } : { host: '127.0.0.1:4566' };
  const signer = new SignatureV4({
    credentials: { accessKeyId: options.akid ?? AKID, secretAccessKey: options.secret ?? SECRET },
    region: options.region ?? 'eu-west-1',
    service: options.service ?? 'kinesis',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4566,
      path: '/',
      query: {},
      headers: {
        ...host,
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'Kinesis_20131202.PutRecord',
        'Content-Length': String(Buffer.byteLength(body)),
        'User-Agent': 'aws-sdk-js/3',
        ...options.headers,
      },
      body,
    },
    { signingDate: options.at ?? new Date(SUITE_TIME) },
  );
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: 'POST', path: '/', query: '', headers, body: Buffer.from(body) };
}

describe('SigV4 verification', () => {
  describe("AWS's test suite", () => {
    it.each([
      ['get-vanilla', 'GET', '', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
      ['get-vanilla-query-order-key-case', 'GET', 'Param2=value2&Param1=value1', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'],
      ['post-vanilla', 'POST', '', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
    ])('%s verifies', (_name, method, query, signature) => {
      expect(verifySigV4(suiteRequest(method, query, signature), { credentials, nowMs: SUITE_TIME, services: ['service'] })).toBe(AKID);
    });

    it('get-vanilla with one signature digit changed is InvalidSignatureException', () => {
      const err = kinesisErrorOf(() =>
        verifySigV4(suiteRequest('GET', '', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30'), {
          credentials,
          nowMs: SUITE_TIME,
          services: ['service'],
        }),
      );
      expect(err.name).toBe('InvalidSignatureException');
      expect(err.message).toMatch(/^The request signature we calculated does not match the signature you provided/);
    });
  });

  describe('requests signed by the AWS SDK signer (@smithy/signature-v4)', () => {
    const options = { credentials, nowMs: SUITE_TIME, services: ['kinesis'] };
    const body = '{"StreamName":"orders","Data":"aGk=","PartitionKey":"k"}';

    it('verify, in any region', async () => {
      expect(verifySigV4(await sdkSigned(body), options)).toBe(AKID);
      expect(verifySigV4(await sdkSigned(body, { region: 'us-east-1' }), options)).toBe(AKID);
    });

    it('verify over HTTP/2, where the host is signed as :authority', async () => {
      const req = await sdkSigned(body, { http2: true });
      expect(req.headers.host).toBeUndefined();
      expect(req.headers.authorization).toContain('SignedHeaders=:authority;');
      expect(verifySigV4(req, options)).toBe(AKID);
      const changed = { ...req, headers: { ...req.headers, ':authority': '127.0.0.1:9999' } };
      expect(kinesisErrorOf(() => verifySigV4(changed, options)).name).toBe('InvalidSignatureException');
    });

    it('verify with a CBOR body and a session token header', async () => {
      const cbor = Buffer.from([0xa1, 0x61, 0x41, 0x42, 0x00, 0xff]).toString('latin1');
      expect(verifySigV4(await sdkSigned(cbor, { headers: { 'Content-Type': 'application/x-amz-cbor-1.1', 'X-Amz-Security-Token': 'tok' } }), options)).toBe(
        AKID,
      );
    });

    it('with the body changed is InvalidSignatureException', async () => {
      const req = await sdkSigned(body);
      const err = kinesisErrorOf(() => verifySigV4({ ...req, body: Buffer.from(body.replace('aGk=', 'aGl=')) }, options));
      expect(err.name).toBe('InvalidSignatureException');
    });

    it('with a signed header changed is InvalidSignatureException', async () => {
      const req = await sdkSigned(body);
      const err = kinesisErrorOf(() => verifySigV4({ ...req, headers: { ...req.headers, 'x-amz-target': 'Kinesis_20131202.DeleteStream' } }, options));
      expect(err.name).toBe('InvalidSignatureException');
    });

    it('an unsigned header may change (proxies add them)', async () => {
      const req = await sdkSigned(body);
      expect(verifySigV4({ ...req, headers: { ...req.headers, 'user-agent': 'other', 'x-forwarded-for': '10.0.0.1' } }, options)).toBe(AKID);
    });

    it('signed with a wrong secret is InvalidSignatureException', async () => {
      const req = await sdkSigned(body, { secret: 'not-the-secret' });
      expect(kinesisErrorOf(() => verifySigV4(req, options)).name).toBe('InvalidSignatureException');
    });

    it('by an unknown access key is UnrecognizedClientException', async () => {
      const req = await sdkSigned(body, { akid: 'AKIAUNKNOWN' });
      const err = kinesisErrorOf(() => verifySigV4(req, options));
      expect([err.name, err.message]).toEqual(['UnrecognizedClientException', 'The security token included in the request is invalid.']);
    });

    it('scoped to another service is InvalidSignatureException', async () => {
      const req = await sdkSigned(body, { service: 'dynamodb' });
      const err = kinesisErrorOf(() => verifySigV4(req, options));
      expect([err.name, err.message]).toEqual(['InvalidSignatureException', "Credential should be scoped to correct service: 'kinesis'."]);
    });

    it('dated up to 15 minutes from now verify; further is InvalidSignatureException', async () => {
      const minute = 60_000;
      for (const skew of [-15 * minute, 15 * minute]) expect(verifySigV4(await sdkSigned(body, { at: new Date(SUITE_TIME + skew) }), options)).toBe(AKID);
      const lateReq = await sdkSigned(body, { at: new Date(SUITE_TIME - 15 * minute - 1000) });
      const late = kinesisErrorOf(() => verifySigV4(lateReq, options));
      expect([late.name, late.message]).toEqual([
        'InvalidSignatureException',
        'Signature expired: 20150830T122059Z is now earlier than 20150830T122100Z (20150830T123600Z - 15 min.)',
      ]);
      const earlyReq = await sdkSigned(body, { at: new Date(SUITE_TIME + 15 * minute + 1000) });
      const early = kinesisErrorOf(() => verifySigV4(earlyReq, options));
      expect([early.name, early.message]).toEqual([
        'InvalidSignatureException',
        'Signature not yet current: 20150830T125101Z is still later than 20150830T125100Z (20150830T123600Z + 15 min.)',
      ]);
    });
  });

  describe('a missing or malformed Authorization header', () => {
    const base = suiteRequest('GET', '', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    const withAuth = (authorization: string | undefined) => ({ ...base, headers: { ...base.headers, authorization } });
    const options = { credentials, nowMs: SUITE_TIME, services: ['service'] };

    it('none at all is MissingAuthenticationTokenException', () => {
      expect(kinesisErrorOf(() => verifySigV4(withAuth(undefined), options)).name).toBe('MissingAuthenticationTokenException');
    });

    it.each([
      ['another scheme', 'Basic dXNlcjpwYXNz'],
      ['no Signature', `AWS4-HMAC-SHA256 Credential=${AKID}/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date`],
      ['a short credential', `AWS4-HMAC-SHA256 Credential=${AKID}/20150830/us-east-1, SignedHeaders=host, Signature=${'0'.repeat(64)}`],
      [
        'a signature that is not hex',
        `AWS4-HMAC-SHA256 Credential=${AKID}/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=xyz`,
      ],
      ['host not signed', `AWS4-HMAC-SHA256 Credential=${AKID}/20150830/us-east-1/service/aws4_request, SignedHeaders=x-amz-date, Signature=${'0'.repeat(64)}`],
    ])('%s is IncompleteSignatureException', (_what, authorization) => {
      expect(kinesisErrorOf(() => verifySigV4(withAuth(authorization), options)).name).toBe('IncompleteSignatureException');
    });

    it('no X-Amz-Date nor Date is IncompleteSignatureException', () => {
      const req = { ...base, headers: { host: base.headers.host, authorization: base.headers.authorization } };
      expect(kinesisErrorOf(() => verifySigV4(req, options)).message).toBe(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      );
    });

    it('a scope dated another day is InvalidSignatureException', () => {
      const req = withAuth(String(base.headers.authorization).replace('/20150830/', '/20150831/'));
      expect(kinesisErrorOf(() => verifySigV4(req, options)).name).toBe('InvalidSignatureException');
    });
  });

  it('parses the Authorization header parts', () => {
    expect(
      parseAuthorization(`AWS4-HMAC-SHA256 Credential=AKID/20150830/eu-west-1/kinesis/aws4_request,SignedHeaders=host;x-amz-date,Signature=${'a'.repeat(64)}`),
    ).toEqual({
      accessKeyId: 'AKID',
      date: '20150830',
      region: 'eu-west-1',
      service: 'kinesis',
      signedHeaders: ['host', 'x-amz-date'],
      signature: 'a'.repeat(64),
    });
  });

  it('canonicalises paths and queries as SigV4 does for services other than S3', () => {
    expect(canonicalPath('/')).toBe('/');
    expect(canonicalPath('')).toBe('/');
    expect(canonicalPath('/a/./b/../c//d/')).toBe('/a/c/d/');
    expect(canonicalPath('/a%20b')).toBe('/a%2520b');
    expect(canonicalQuery('b=2&a=1&A=0&a=0')).toBe('A=0&a=0&a=1&b=2');
    expect(canonicalQuery('k=a%20b&e')).toBe('e=&k=a%20b');
  });

  it('reads and writes the ISO 8601 basic time', () => {
    expect(parseAmzDate('20150830T123600Z')).toBe(SUITE_TIME);
    expect(formatAmzDate(SUITE_TIME)).toBe('20150830T123600Z');
    expect(parseAmzDate('20150230T123600Z')).toBeUndefined();
    expect(parseAmzDate('2015-08-30T12:36:00Z')).toBeUndefined();
  });
});
