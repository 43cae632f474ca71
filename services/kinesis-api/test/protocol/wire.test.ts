import { seededRandom } from '../../../../test-support/seeded-random';
import { KinesisApiError } from '../../src/errors';
import { ChunkPool } from '../../src/protocol/json-writer';
import { decodeBody, encodeAnswer, encodeError, encodeResponse, wireBlob, wireFormatOf, wireTimestamp } from '../../src/protocol/wire';
import { checkingSink, randomStreamedAnswer, reference } from './answers';

const T = new Date(1_700_000_000_123);

/** CBOR tag 1 holding an unsigned 64-bit integer, as the Java SDK writes a timestamp. */
function cborTimestamp(ms: number): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 0xc1;
  b[1] = 0x1b;
  b.writeBigUInt64BE(BigInt(ms), 2);
  return b;
}

/** A CBOR map of text keys (short ones) to already encoded values. */
function cborMap(entries: [string, Buffer][]): Buffer {
  return Buffer.concat([Buffer.from([0xa0 + entries.length]), ...entries.flatMap(([k, v]) => [Buffer.from([0x60 + k.length]), Buffer.from(k), v])]);
}

describe('wire formats', () => {
  it.each([
    ['application/x-amz-json-1.1', 'json'],
    ['application/x-amz-json-1.0', 'json'],
    ['application/json; charset=utf-8', 'json'],
    [undefined, 'json'],
    ['application/x-amz-cbor-1.1', 'cbor'],
    ['APPLICATION/CBOR', 'cbor'],
    ['text/plain', undefined],
  ])('Content-Type %s is %s', (type, format) => {
    expect(wireFormatOf(type)).toBe(format);
  });

  describe('JSON 1.1', () => {
    it('decodes an object; blobs stay base64 text until read, timestamps are epoch seconds', () => {
      const body = decodeBody('json', Buffer.from('{"StreamName":"s","Data":"aGk=","Timestamp":1700000000.123}'));
      expect(body).toEqual({ StreamName: 's', Data: 'aGk=', Timestamp: 1700000000.123 });
      expect(wireBlob('json', body.Data)).toEqual(Buffer.from('hi'));
      expect(wireTimestamp('json', body.Timestamp)).toEqual(T);
    });

    it('reads a blob from exactly the text that is standard base64 with its padding', () => {
      const valid = /^[A-Za-z0-9+/]*={0,2}$/;
      const alphabet = ['A', 'g', 'Q', 'w', '0', '+', '/', '=', '-', '_', ' ', '\n', '*', 'é', '\u0141', '\ud83d'];
      const random = seededRandom(7);
      for (let n = 0; n < 20_000; n++) {
        const text = Array.from({ length: Math.floor(random() * 13) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
        const blob = wireBlob('json', text);
        const expected = valid.test(text) && text.length % 4 === 0;
        if (expected !== (blob !== undefined)) throw new Error(`${JSON.stringify(text)}: ${blob === undefined ? 'refused' : 'read'}`);
        if (blob) expect(blob.toString('base64')).toBe(Buffer.from(text, 'base64').toString('base64'));
      }
      for (const text of ['', 'aGk=', 'aGkh', 'aA==', Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256)).toString('base64')]) {
        expect(wireBlob('json', text)).toEqual(Buffer.from(text, 'base64'));
      }
      for (const text of ['a===', '====', 'aG=k', 'aGk-', 'aGk_', 'aG k', '\u0141Gk=', 'aGké']) expect(wireBlob('json', text)).toBeUndefined();
    });

    it('reads no blob from text that is not base64, and no timestamp from a non-number', () => {
      expect(wireBlob('json', 'a*b=')).toBeUndefined();
      expect(wireBlob('json', 'abc')).toBeUndefined();
      expect(wireBlob('json', 42)).toBeUndefined();
      expect(wireTimestamp('json', '2023-11-14T22:13:20Z')).toBeUndefined();
    });

    it('encodes Buffers as base64 and Dates as epoch seconds with the fraction', () => {
      const res = encodeResponse('json', {
        Records: [{ Data: Buffer.from('hi'), ApproximateArrivalTimestamp: T, SequenceNumber: '49' }],
        MillisBehindLatest: 0,
        NextShardIterator: undefined,
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(JSON.parse(res.body.toString())).toEqual({
        Records: [{ Data: 'aGk=', ApproximateArrivalTimestamp: 1700000000.123, SequenceNumber: '49' }],
        MillisBehindLatest: 0,
      });
    });

    it.each([
      ['not JSON', '{"a":'],
      ['not an object', '[1,2]'],
      ['null', 'null'],
    ])('a body that is %s is SerializationException', (_what, text) => {
      expect(() => decodeBody('json', Buffer.from(text))).toThrow(KinesisApiError);
      try {
        decodeBody('json', Buffer.from(text));
      } catch (err) {
        expect((err as KinesisApiError).name).toBe('SerializationException');
      }
    });

    it('an empty body is an empty request', () => {
      expect(decodeBody('json', Buffer.alloc(0))).toEqual({});
    });
  });

  describe('CBOR 1.1', () => {
    it('decodes what the Java SDK sends: byte strings and tag 1 epoch milliseconds', () => {
      const body = decodeBody(
        'cbor',
        cborMap([
          ['Data', Buffer.from([0x42, 0x68, 0x69])],
          ['Timestamp', cborTimestamp(T.getTime())],
          ['Limit', Buffer.from([0x18, 100])],
        ]),
      );
      expect(wireBlob('cbor', body.Data)).toEqual(Buffer.from('hi'));
      expect(wireTimestamp('cbor', body.Timestamp)).toEqual(T);
      expect(body.Limit).toBe(100);
    });

    it('reads no blob from a text string', () => {
      expect(wireBlob('cbor', 'aGk=')).toBeUndefined();
    });

    it('encodes Dates as tag 1 with integer epoch milliseconds (the Java SDK parses them as a long)', () => {
      const res = encodeResponse('cbor', { T: T });
      expect(res.headers['content-type']).toBe('application/x-amz-cbor-1.1');
      expect(res.body).toEqual(cborMap([['T', cborTimestamp(T.getTime())]]));
    });

    it('encodes Buffers as byte strings and large counts as integers, not floats', () => {
      const res = encodeResponse('cbor', { D: Buffer.from('hi'), M: 2 ** 40 });
      const m = Buffer.alloc(9);
      m[0] = 0x1b;
      m.writeBigUInt64BE(2n ** 40n, 1);
      expect(res.body).toEqual(
        cborMap([
          ['D', Buffer.from([0x42, 0x68, 0x69])],
          ['M', m],
        ]),
      );
    });

    it('round-trips a response through its own decoder', () => {
      const res = encodeResponse('cbor', {
        Records: [{ Data: Buffer.from([0, 255]), ApproximateArrivalTimestamp: T, PartitionKey: 'k' }],
        MillisBehindLatest: 5,
      });
      const back = decodeBody('cbor', res.body) as { Records: Record<string, unknown>[]; MillisBehindLatest: number };
      expect(wireBlob('cbor', back.Records[0].Data)).toEqual(Buffer.from([0, 255]));
      expect(wireTimestamp('cbor', back.Records[0].ApproximateArrivalTimestamp)).toEqual(T);
      expect([back.Records[0].PartitionKey, back.MillisBehindLatest]).toEqual(['k', 5]);
    });

    it('a body that is not a CBOR map is SerializationException', () => {
      for (const bytes of [Buffer.from([0x83, 1, 2, 3]), Buffer.from([0xff, 0xff]), Buffer.from([0x42, 0x68, 0x69])]) {
        expect(() => decodeBody('cbor', bytes)).toThrow(expect.objectContaining({ name: 'SerializationException' }));
      }
    });
  });

  describe('answers', () => {
    it('JSON: an answer with streamed members has no length and is written as it is read, any other its length and exactly that many bytes (100 random answers)', async () => {
      let streamed = 0;
      for (let seed = 1; seed <= 100; seed++) {
        const answer = randomStreamedAnswer(seed);
        const res = await encodeAnswer('json', answer.make());
        expect([seed, res.status, res.headers['content-type'], res.length === undefined]).toEqual([seed, 200, 'application/x-amz-json-1.1', answer.streamed]);
        const { sink, written, finish, corrupted } = checkingSink(seededRandom(seed));
        await expect(res.writeBody(sink, new ChunkPool(4))).resolves.toBe(true);
        finish();
        expect([seed, corrupted()]).toEqual([seed, 0]);
        const body = Buffer.concat(written);
        expect([seed, body.toString('utf8')]).toEqual([seed, reference(answer.whole).toString('utf8')]);
        if (res.length !== undefined) expect([seed, body.length]).toEqual([seed, res.length]);
        if (answer.streamed) streamed++;
      }
      expect(streamed).toBeGreaterThan(30);
    });

    it('CBOR: the streamed lists are read to the end first, then the whole answer is encoded with its length (60 random answers)', async () => {
      for (let seed = 1; seed <= 60; seed++) {
        const answer = randomStreamedAnswer(seed, [undefined]);
        const res = await encodeAnswer('cbor', answer.make());
        expect([seed, res.status, res.headers['content-type']]).toEqual([seed, 200, 'application/x-amz-cbor-1.1']);
        const { sink, written, finish } = checkingSink(seededRandom(seed));
        await expect(res.writeBody(sink, new ChunkPool(4))).resolves.toBe(true);
        finish();
        const body = Buffer.concat(written);
        expect([seed, body.equals(encodeResponse('cbor', answer.whole).body)]).toEqual([seed, true]);
        expect([seed, body.length]).toEqual([seed, res.length]);
      }
    });
  });

  describe('errors', () => {
    it('answer the AWS shape: __type and message, x-amzn-ErrorType, the status', () => {
      const res = encodeError('json', new KinesisApiError('ResourceNotFoundException', 'Stream s under account 000000000000 not found.'));
      expect([res.status, res.headers['x-amzn-errortype']]).toEqual([400, 'ResourceNotFoundException']);
      expect(JSON.parse(res.body.toString())).toEqual({ __type: 'ResourceNotFoundException', message: 'Stream s under account 000000000000 not found.' });
    });

    it('in CBOR for a CBOR request', () => {
      const res = encodeError('cbor', new KinesisApiError('ExpiredIteratorException', 'Iterator expired.'));
      expect(decodeBody('cbor', res.body)).toEqual({ __type: 'ExpiredIteratorException', message: 'Iterator expired.' });
    });

    it('any other error is an InternalFailure (500) that does not show its text', () => {
      const res = encodeError('json', new Error('connect ECONNREFUSED 10.0.0.7:9092'));
      expect(res.status).toBe(500);
      expect(res.body.toString()).not.toContain('ECONNREFUSED');
      expect(JSON.parse(res.body.toString()).__type).toBe('InternalFailure');
    });
  });
});
