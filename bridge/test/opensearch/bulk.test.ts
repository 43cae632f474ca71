import { bulkBody, bulkOutcomes, documentId, MAX_ID_BYTES } from '../../src/opensearch/bulk';

describe('documentId', () => {
  const data = Buffer.from(JSON.stringify({ claim: { id: 'C-7' }, n: 4 }));
  test('from the Kafka key', () => {
    expect(documentId({ kind: 'key' }, Buffer.from('{"id":1}'), data)).toBe('{"id":1}');
    expect(documentId({ kind: 'key' }, null, data)).toBeUndefined();
    expect(documentId({ kind: 'key' }, Buffer.alloc(0), data)).toBeUndefined();
  });
  test('from a JSON path of the value', () => {
    expect(documentId({ kind: 'field', path: 'claim.id' }, null, data)).toBe('C-7');
    expect(documentId({ kind: 'field', path: 'n' }, null, data)).toBe('4');
    expect(documentId({ kind: 'field', path: 'missing' }, null, data)).toBeUndefined();
    expect(documentId({ kind: 'field', path: 'n' }, null, Buffer.from('not json'))).toBeUndefined();
  });
  test('none, and ids over 512 bytes become their MD5', () => {
    expect(documentId({ kind: 'none' }, Buffer.from('k'), data)).toBeUndefined();
    const long = documentId({ kind: 'key' }, Buffer.from('k'.repeat(MAX_ID_BYTES + 1)), data);
    expect(long).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('bulkBody', () => {
  test('one index action per document, NDJSON, pretty JSON compacted', () => {
    const body = bulkBody([
      { index: 'a-2024-01-02', id: 'k1', source: Buffer.from('{"x":1}') },
      { index: 'a-2024-01-02', source: Buffer.from('{\n  "y": 2\n}') },
    ]).toString();
    expect(body).toBe('{"index":{"_index":"a-2024-01-02","_id":"k1"}}\n{"x":1}\n{"index":{"_index":"a-2024-01-02"}}\n{"y":2}\n');
  });
});

describe('bulkOutcomes', () => {
  test('per document: indexed, retry on 429/5xx, rejected on other 4xx', () => {
    const response = {
      errors: true,
      items: [
        { index: { status: 201 } },
        { index: { status: 200 } },
        { index: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } },
        { index: { status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary not active' } } },
        {
          index: {
            status: 400,
            error: {
              type: 'mapper_parsing_exception',
              reason: 'failed to parse field [a] of type [long]',
              caused_by: { type: 'illegal_argument_exception', reason: 'For input string: "x"' },
            },
          },
        },
      ],
    };
    expect(bulkOutcomes(5, response)).toEqual([
      { kind: 'indexed' },
      { kind: 'indexed' },
      { kind: 'retry', code: 'HTTP429', error: '429 es_rejected_execution_exception: queue full' },
      { kind: 'retry', code: 'HTTP5xx', error: '503 unavailable_shards_exception: primary not active' },
      {
        kind: 'rejected',
        status: 400,
        error: '400 mapper_parsing_exception: failed to parse field [a] of type [long] (caused by illegal_argument_exception: For input string: "x")',
      },
    ]);
  });
  test('an answer that does not match the request fails the whole call', () => {
    expect(() => bulkOutcomes(2, { items: [{ index: { status: 201 } }] })).toThrow(/1 items for 2 documents/);
    expect(() => bulkOutcomes(1, { error: 'x' })).toThrow(/no items/);
  });
});
