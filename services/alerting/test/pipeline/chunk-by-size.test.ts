import { chunkBySize } from '../../src/pipeline/transactional-pipeline';

describe('chunkBySize', () => {
  it('keeps each send under the byte bound, in order, and a lone oversize record alone', () => {
    const rec = (n: number, i: number) => ({ topic: 't', key: String(i), value: 'x'.repeat(n) });
    const records = [rec(100, 0), rec(100, 1), rec(100, 2), rec(1000, 3), rec(10, 4)];
    const chunks = chunkBySize(records, 400);
    expect(chunks.map((c) => c.map((r) => r.key))).toEqual([['0', '1'], ['2'], ['3'], ['4']]);
    expect(chunks.flat()).toEqual(records);
  });
});
