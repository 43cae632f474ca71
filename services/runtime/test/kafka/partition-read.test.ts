import { pickSlot, takeWithin, type SlotState } from '../../src/kafka/partition-read';

const rec = (keyBytes: number, valueBytes: number | null) => ({
  key: keyBytes > 0 ? Buffer.alloc(keyBytes) : null,
  value: valueBytes === null ? null : Buffer.alloc(valueBytes),
});

describe('takeWithin', () => {
  const ten = Array.from({ length: 10 }, () => rec(1, 9));

  it('takes at most maxRecords', () => {
    expect(takeWithin(ten, 4)).toBe(4);
    expect(takeWithin(ten, 40)).toBe(10);
    expect(takeWithin([], 4)).toBe(0);
  });

  it('counts keys and values against maxBytes', () => {
    expect(takeWithin(ten, 10, 30)).toBe(3);
    expect(takeWithin(ten, 10, 29)).toBe(2);
    expect(takeWithin([rec(0, null), rec(0, null), rec(2, 3)], 10, 4)).toBe(2);
  });

  it('takes one record larger than maxBytes alone, so that a reader moves on', () => {
    expect(takeWithin([rec(0, 100), rec(0, 1)], 10, 10)).toBe(1);
  });
});

describe('pickSlot', () => {
  const read = { topic: 't', partition: 1, offset: '15' };
  const slot = (busy: boolean, lastUsed: number, at?: SlotState['at']): SlotState => ({ busy, lastUsed, at });

  it('prefers the idle connection positioned where the read starts', () => {
    expect(pickSlot([slot(false, 1), slot(false, 9, { topic: 't', partition: 1, next: '15' }), slot(false, 2)], read)).toBe(1);
  });

  it('else repositions the least recently used idle connection', () => {
    expect(
      pickSlot([slot(false, 5, { topic: 't', partition: 1, next: '14' }), slot(true, 1), slot(false, 3, { topic: 't', partition: 2, next: '15' })], read),
    ).toBe(2);
  });

  it('skips busy connections, even positioned ones, and answers -1 when all are busy', () => {
    expect(pickSlot([slot(true, 1, { topic: 't', partition: 1, next: '15' }), slot(false, 7)], read)).toBe(1);
    expect(pickSlot([slot(true, 1), slot(true, 2)], read)).toBe(-1);
  });
});
